extension KernelSource {
    /// Matrix-vector products for steps of a few tokens (batch-1 decode), where a GEMM library
    /// leaves memory bandwidth unused: a warp per weight row, 16-byte loads, every token's
    /// input read from L1/L2 while the row streams from memory once.
    static let gemv = #"""
#define TERN_GEMV_MAX_TOKENS 4

__device__ __forceinline__ void unpack_bf16x8(uint4 v, float *out) {
    const unsigned int words[4] = {v.x, v.y, v.z, v.w};
    for (int i = 0; i < 4; ++i) {
        out[2 * i] = __uint_as_float(words[i] << 16);
        out[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
    }
}

// y [tokens, n] (+)= x [tokens, k] · w [n, k]ᵀ; x, w bf16, k a multiple of 8, tokens <= 4.
// y is f32 (accumulate: added to) or bf16 (overwritten). grid ceil(n / 8), block 256.
extern "C" __global__ void tern_gemv(const bf16_t *w, const bf16_t *x, void *y, int n, int k, int tokens,
                                     int out_f32, int accumulate) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= n) return;
    const uint4 *weights = (const uint4 *)(w + (long long)row * k);
    const int chunks = k >> 3;
    float acc[TERN_GEMV_MAX_TOKENS] = {0.0f, 0.0f, 0.0f, 0.0f};
    #pragma unroll 4
    for (int i = lane; i < chunks; i += 32) {
        float wf[8], xf[8];
        unpack_bf16x8(weights[i], wf);
        // Constant bounds keep acc in registers (a runtime index would put it in local memory).
        #pragma unroll
        for (int t = 0; t < TERN_GEMV_MAX_TOKENS; ++t) {
            if (t >= tokens) break;
            unpack_bf16x8(((const uint4 *)(x + (long long)t * k))[i], xf);
            float sum = 0.0f;
            for (int j = 0; j < 8; ++j) sum += wf[j] * xf[j];
            acc[t] += sum;
        }
    }
    #pragma unroll
    for (int t = 0; t < TERN_GEMV_MAX_TOKENS; ++t) {
        if (t >= tokens) break;
        const float total = warp_sum(acc[t]);
        if (lane != 0) continue;
        const long long index = (long long)t * n + row;
        if (out_f32) {
            float *out = (float *)y;
            out[index] = accumulate ? out[index] + total : total;
        } else {
            ((bf16_t *)y)[index] = float_to_bf16(total);
        }
    }
}

"""#
}
