/// The CUDA C source of Tern's kernels, compiled by NVRTC at first use (`KernelCache`).
///
/// bf16 values travel as raw `unsigned short` and are converted by bit operations, so the
/// source needs no CUDA header: NVRTC alone compiles it, on a GPU machine or in CI.
/// Layouts (row-major, T = tokens of the step):
///   residual [T, hidden] f32 · activations bf16 · qkv [T, qDim + 2·kvDim] f32
///   KV cache per layer [blocks, blockSize, kvHeads, headDim] bf16, K and V apart.
public enum KernelSource {
    /// Every kernel's entry point, as looked up in the compiled module.
    public static let functionNames = [
        "tern_embedding", "tern_rmsnorm", "tern_qkv_rope_cache", "tern_silu_mul",
        "tern_attention_partial", "tern_attention_combine", "tern_gemv", "tern_sample", "tern_attention_tiled",
    ]

    /// The whole module: helpers, then the element-wise, attention, GEMV and sampling kernels.
    public static var module: String { helpers + elementwise + attention + tiledAttention + gemv + sampling }

    static let helpers = #"""
typedef unsigned short bf16_t;
#define INFINITY __int_as_float(0x7f800000)

__device__ __forceinline__ float bf16_to_float(bf16_t v) {
    return __uint_as_float(((unsigned int)v) << 16);
}

// Round to nearest even, as PyTorch does; NaN stays a (quiet) NaN.
__device__ __forceinline__ bf16_t float_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (bf16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (bf16_t)(u >> 16);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum (or max) over the block; every thread gets the result. scratch: 32 floats.
__device__ float block_reduce(float v, float *scratch, bool is_max) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = is_max ? warp_max(v) : warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : (is_max ? -INFINITY : 0.0f);
        w = is_max ? warp_max(w) : warp_sum(w);
        if (lane == 0) scratch[0] = w;
    }
    __syncthreads();
    return scratch[0];
}

"""#
}
