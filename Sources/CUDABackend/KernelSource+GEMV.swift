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

// The weight formats of the GEMV kernels. 16 bytes of a row hold 8 bf16 weights, or 16 FP8
// (e4m3) weights with one f32 scale per row (`row_scale`, applied to the row's sums).
struct bf16_weights {
    static const int per_load = 8, bytes = 2;
    __device__ static __forceinline__ void unpack(uint4 packed, float *out) { unpack_bf16x8(packed, out); }
    __device__ static __forceinline__ float row_scale(const float *, int) { return 1.0f; }
};

// An e4m3 byte b becomes the f32 with b's sign, exponent and mantissa moved into place:
// ((b & 0x80) << 24) | ((b & 0x7f) << 20). That is b's value times 2^-120 (e4m3's exponent bias
// is 7, f32's 127; subnormals land on f32 subnormals, also exact), so row_scale carries 2^120.
// Three integer operations a weight instead of the conversion instructions' lower rate.
__device__ __forceinline__ void unpack_e4m3x4(unsigned int v, float *out) {
    out[0] = __uint_as_float(((v << 24) & 0x80000000u) | ((v << 20) & 0x07f00000u));
    out[1] = __uint_as_float(((v << 16) & 0x80000000u) | ((v << 12) & 0x07f00000u));
    out[2] = __uint_as_float(((v << 8) & 0x80000000u) | ((v << 4) & 0x07f00000u));
    out[3] = __uint_as_float((v & 0x80000000u) | ((v >> 4) & 0x07f00000u));
}

struct fp8_weights {
    static const int per_load = 16, bytes = 1;
    __device__ static __forceinline__ void unpack(uint4 packed, float *out) {
        unpack_e4m3x4(packed.x, out);
        unpack_e4m3x4(packed.y, out + 4);
        unpack_e4m3x4(packed.z, out + 8);
        unpack_e4m3x4(packed.w, out + 12);
    }
    __device__ static __forceinline__ float row_scale(const float *scales, int row) {
        return scales[row] * 1.329227995784916e36f;  // 2^120
    }
};

// acc[t] += the weights in `packed` (chunk i of the row) · the same columns of x[t].
template <typename W>
__device__ __forceinline__ void gemv_chunk(uint4 packed, const bf16_t *x, int k, int i, int tokens, float *acc) {
    float wf[W::per_load], xf[8];
    W::unpack(packed, wf);
    // Constant bounds keep acc in registers (a runtime index would put it in local memory).
    #pragma unroll
    for (int t = 0; t < TERN_GEMV_MAX_TOKENS; ++t) {
        if (t >= tokens) break;
        const uint4 *xs = (const uint4 *)(x + (long long)t * k) + i * (W::per_load / 8);
        float sum = 0.0f;
        #pragma unroll
        for (int h = 0; h < W::per_load / 8; ++h) {
            unpack_bf16x8(xs[h], xf);
            #pragma unroll
            for (int j = 0; j < 8; ++j) sum += wf[8 * h + j] * xf[j];
        }
        acc[t] += sum;
    }
}

// acc[t] += row · x[t] for a weight row of k weights (k a multiple of W::per_load) and
// tokens <= 4 inputs, the lane's share of it (the caller sums over the warp and applies the
// row's scale). Waits for the kernel before (after its first weight loads are out: the
// weights depend on no earlier kernel).
template <typename W>
__device__ __forceinline__ void gemv_row(const void *w_row, const bf16_t *x, int k, int tokens, int lane,
                                         float *acc) {
    const uint4 *weights = (const uint4 *)w_row;
    const int chunks = k / W::per_load;
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
        for (int u = 0; u < TERN_GEMV_UNROLL; ++u) gemv_chunk<W>(loaded[u], x, k, i + 32 * u, tokens, acc);
        i += 32 * TERN_GEMV_UNROLL;
    }
    for (; i + 32 * (TERN_GEMV_UNROLL - 1) < chunks; i += 32 * TERN_GEMV_UNROLL) {
        #pragma unroll
        for (int u = 0; u < TERN_GEMV_UNROLL; ++u) loaded[u] = load_streaming(weights + i + 32 * u);
        #pragma unroll
        for (int u = 0; u < TERN_GEMV_UNROLL; ++u) gemv_chunk<W>(loaded[u], x, k, i + 32 * u, tokens, acc);
    }
    for (; i < chunks; i += 32) gemv_chunk<W>(load_streaming(weights + i), x, k, i, tokens, acc);
}

// y [tokens, n] (+)= x [tokens, k] · w [n, k]ᵀ; x bf16, w in W's format (scales [n] f32 for
// FP8), k a multiple of W::per_load, tokens <= 4. y is f32 (accumulate: added to) or bf16
// (overwritten). grid ceil(n / 8), block 256.
template <typename W>
__device__ __forceinline__ void gemv(const unsigned char *w, const float *scales, const bf16_t *x, void *y, int n,
                                     int k, int tokens, int out_f32, int accumulate) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= n) {
        tern_grid_dependency();
        return;
    }
    float acc[TERN_GEMV_MAX_TOKENS] = {0.0f, 0.0f, 0.0f, 0.0f};
    gemv_row<W>(w + (long long)row * k * W::bytes, x, k, tokens, lane, acc);
    const float scale = W::row_scale(scales, row);
    #pragma unroll
    for (int t = 0; t < TERN_GEMV_MAX_TOKENS; ++t) {
        if (t >= tokens) break;
        const float total = warp_sum(acc[t]) * scale;
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

extern "C" __global__ void __launch_bounds__(256) tern_gemv(const unsigned char *w, const bf16_t *x, void *y, int n,
                                                            int k, int tokens, int out_f32, int accumulate) {
    gemv<bf16_weights>(w, nullptr, x, y, n, k, tokens, out_f32, accumulate);
}

extern "C" __global__ void __launch_bounds__(256) tern_gemv_fp8(const unsigned char *w, const float *scales,
                                                                const bf16_t *x, void *y, int n, int k, int tokens,
                                                                int out_f32, int accumulate) {
    gemv<fp8_weights>(w, scales, x, y, n, k, tokens, out_f32, accumulate);
}

// The gate/up GEMV and the activation in one: out [tokens, inter] bf16 = act(x·gateᵀ) · (x·upᵀ),
// act SiLU or (gelu set) tanh-GELU, with w = [gate; up] [2 inter, k] in W's format (scales
// [2 inter] for FP8). Block b: warps 0-3 take gate rows 4b..4b+3, warps 4-7 the same up rows;
// both are rounded to bf16 first, as the separate kernels store them. inter a multiple of 4,
// k of W::per_load, tokens <= 4. grid inter / 4, block 256.
template <typename W>
__device__ __forceinline__ void gemv_gated(const unsigned char *w, const float *scales, const bf16_t *x, bf16_t *out,
                                           int inter, int k, int tokens, int gelu) {
    __shared__ float results[8][TERN_GEMV_MAX_TOKENS];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int row = (warp < 4 ? 0 : inter) + blockIdx.x * 4 + (warp & 3);
    float acc[TERN_GEMV_MAX_TOKENS] = {0.0f, 0.0f, 0.0f, 0.0f};
    gemv_row<W>(w + (long long)row * k * W::bytes, x, k, tokens, lane, acc);
    const float scale = W::row_scale(scales, row);
    #pragma unroll
    for (int t = 0; t < TERN_GEMV_MAX_TOKENS; ++t) {
        if (t >= tokens) break;
        const float total = warp_sum(acc[t]) * scale;
        if (lane == 0) results[warp][t] = bf16_to_float(float_to_bf16(total));
    }
    __syncthreads();
    if (threadIdx.x < 4 * tokens) {
        const int p = threadIdx.x & 3, t = threadIdx.x >> 2;
        const float g = results[p][t], u = results[4 + p][t];
        out[(long long)t * inter + blockIdx.x * 4 + p] = float_to_bf16(gated_activation(g, gelu) * u);
    }
}

extern "C" __global__ void __launch_bounds__(256) tern_gemv_silu(const unsigned char *w, const bf16_t *x, bf16_t *out,
                                                                 int inter, int k, int tokens, int gelu) {
    gemv_gated<bf16_weights>(w, nullptr, x, out, inter, k, tokens, gelu);
}

extern "C" __global__ void __launch_bounds__(256) tern_gemv_silu_fp8(const unsigned char *w, const float *scales,
                                                                     const bf16_t *x, bf16_t *out, int inter, int k,
                                                                     int tokens, int gelu) {
    gemv_gated<fp8_weights>(w, scales, x, out, inter, k, tokens, gelu);
}

"""#
}
