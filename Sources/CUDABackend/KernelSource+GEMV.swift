extension KernelSource {
    /// Matrix-vector products for steps of a few tokens (batch-1 decode), where a GEMM library
    /// leaves memory bandwidth unused: a warp per weight row, eight 16-byte loads a lane in
    /// flight that bypass L1 (each weight is read once), every token's input read from L1/L2
    /// while the row streams from memory once.
    static let gemv = #"""
#define TERN_GEMV_MAX_TOKENS 4
#define TERN_GEMV_UNROLL 8

__device__ __forceinline__ uint4 load_streaming(const uint4 *p) {
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];\n"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

__device__ __forceinline__ void gemv_chunk(uint4 packed, const bf16_t *x, int k, int i, int tokens, float *acc) {
    float wf[8], xf[8];
    unpack_bf16x8(packed, wf);
    // Constant bounds keep acc in registers (a runtime index would put it in local memory).
    #pragma unroll
    for (int t = 0; t < TERN_GEMV_MAX_TOKENS; ++t) {
        if (t >= tokens) break;
        unpack_bf16x8(((const uint4 *)(x + (long long)t * k))[i], xf);
        float sum = 0.0f;
        #pragma unroll
        for (int j = 0; j < 8; ++j) sum += wf[j] * xf[j];
        acc[t] += sum;
    }
}

// acc[t] += row · x[t] for a weight row of k bf16 (k a multiple of 8) and tokens <= 4 inputs,
// the lane's share of it (the caller sums over the warp). Waits for the kernel before (after
// its first weight loads are out: the weights depend on no earlier kernel).
__device__ __forceinline__ void gemv_row(const bf16_t *w_row, const bf16_t *x, int k, int tokens, int lane,
                                         float *acc) {
    const uint4 *weights = (const uint4 *)w_row;
    const int chunks = k >> 3;
    int i = lane;
    uint4 loaded[TERN_GEMV_UNROLL];
    const bool prefetched = i + 32 * (TERN_GEMV_UNROLL - 1) < chunks;
    if (prefetched) {
        #pragma unroll
        for (int u = 0; u < TERN_GEMV_UNROLL; ++u) loaded[u] = load_streaming(weights + i + 32 * u);
    }
    tern_grid_dependency();
    if (prefetched) {
        #pragma unroll
        for (int u = 0; u < TERN_GEMV_UNROLL; ++u) gemv_chunk(loaded[u], x, k, i + 32 * u, tokens, acc);
        i += 32 * TERN_GEMV_UNROLL;
    }
    for (; i + 32 * (TERN_GEMV_UNROLL - 1) < chunks; i += 32 * TERN_GEMV_UNROLL) {
        #pragma unroll
        for (int u = 0; u < TERN_GEMV_UNROLL; ++u) loaded[u] = load_streaming(weights + i + 32 * u);
        #pragma unroll
        for (int u = 0; u < TERN_GEMV_UNROLL; ++u) gemv_chunk(loaded[u], x, k, i + 32 * u, tokens, acc);
    }
    for (; i < chunks; i += 32) gemv_chunk(load_streaming(weights + i), x, k, i, tokens, acc);
}

// y [tokens, n] (+)= x [tokens, k] · w [n, k]ᵀ; x, w bf16, k a multiple of 8, tokens <= 4.
// y is f32 (accumulate: added to) or bf16 (overwritten). grid ceil(n / 8), block 256.
extern "C" __global__ void __launch_bounds__(256) tern_gemv(const bf16_t *w, const bf16_t *x, void *y, int n, int k,
                                                            int tokens, int out_f32, int accumulate) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= n) {
        tern_grid_dependency();
        return;
    }
    float acc[TERN_GEMV_MAX_TOKENS] = {0.0f, 0.0f, 0.0f, 0.0f};
    gemv_row(w + (long long)row * k, x, k, tokens, lane, acc);
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

// The gate/up GEMV and the activation in one: out [tokens, inter] bf16 = act(x·gateᵀ) · (x·upᵀ),
// act SiLU or (gelu set) tanh-GELU,
// with w = [gate; up] [2 inter, k] bf16. Block b: warps 0-3 take gate rows 4b..4b+3, warps 4-7
// the same up rows; both are rounded to bf16 first, as the separate kernels store them.
// inter a multiple of 4, k of 8, tokens <= 4. grid inter / 4, block 256.
extern "C" __global__ void __launch_bounds__(256) tern_gemv_silu(const bf16_t *w, const bf16_t *x, bf16_t *out,
                                                                 int inter, int k, int tokens, int gelu) {
    __shared__ float results[8][TERN_GEMV_MAX_TOKENS];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int row = (warp < 4 ? 0 : inter) + blockIdx.x * 4 + (warp & 3);
    float acc[TERN_GEMV_MAX_TOKENS] = {0.0f, 0.0f, 0.0f, 0.0f};
    gemv_row(w + (long long)row * k, x, k, tokens, lane, acc);
    #pragma unroll
    for (int t = 0; t < TERN_GEMV_MAX_TOKENS; ++t) {
        if (t >= tokens) break;
        const float total = warp_sum(acc[t]);
        if (lane == 0) results[warp][t] = bf16_to_float(float_to_bf16(total));
    }
    __syncthreads();
    if (threadIdx.x < 4 * tokens) {
        const int p = threadIdx.x & 3, t = threadIdx.x >> 2;
        const float g = results[p][t], u = results[4 + p][t];
        out[(long long)t * inter + blockIdx.x * 4 + p] = float_to_bf16(gated_activation(g, gelu) * u);
    }
}

"""#
}
