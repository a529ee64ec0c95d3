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
        "tern_embedding", "tern_rmsnorm", "tern_rmsnorm_add", "tern_qkv_rope_cache", "tern_silu_mul",
        "tern_attention_partial", "tern_gemv", "tern_gemv_silu", "tern_gemv_fp8", "tern_gemv_silu_fp8", "tern_quantize_fp8", "tern_sample", "tern_sample_finish", "tern_adjust_logits", "tern_apply_token_mask", "tern_sample_filtered", "tern_attention_tiled",
        "tern_attention_mma64", "tern_attention_mma128", "tern_attention_partial_d64_g4",
        "tern_attention_partial_d64_g8", "tern_attention_partial_d128_g4", "tern_attention_partial_d128_g8",
    ]

    /// The whole module: helpers, then the element-wise, attention, GEMV and sampling kernels.
    public static var module: String { helpers + elementwise + attention + tiledAttention + mmaAttention + gemv + fp8 + sampling }

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

// Programmatic dependent launch (sm_90): a kernel launched to overlap the one before it waits
// here until that one has finished and its writes are visible, then lets the next kernel start
// launching. Without the launch attribute the wait returns at once. Every kernel calls this
// before it reads anything an earlier kernel wrote.
__device__ __forceinline__ void tern_grid_dependency() {
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;\n" :::);
}

__device__ __forceinline__ void unpack_bf16x8(uint4 v, float *out) {
    const unsigned int words[4] = {v.x, v.y, v.z, v.w};
    #pragma unroll
    for (int i = 0; i < 4; ++i) {
        out[2 * i] = __uint_as_float(words[i] << 16);
        out[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
    }
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

// The gate's activation of a gated MLP: SiLU (SwiGLU), or with gelu set GELU with the tanh
// approximation (GeGLU, Gemma's gelu_pytorch_tanh).
__device__ __forceinline__ float gated_activation(float g, int gelu) {
    if (!gelu) return g / (1.0f + expf(-g));
    const float inner = 0.7978845608028654f * (g + 0.044715f * g * g * g);
    return 0.5f * g * (1.0f + tanhf(inner));
}

"""#
}
