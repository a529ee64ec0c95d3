extension KernelSource {
    /// FP8 (e4m3) quantization with one scale a row: the weights at load (a scale per output
    /// channel) and, before an FP8 GEMM, the activations (a scale per token).
    static let fp8 = #"""
// out[r] = x[r] / s[r] rounded to e4m3 (to nearest even, saturating at ±448), with
// s[r] = max|x[r]| / 448 (a row of zeros gets a tiny positive scale and stays zero).
// x [rows, k] bf16, k a multiple of 8; out [rows, k] bytes; scales [rows] f32.
// grid rows, block 256.
extern "C" __global__ void __launch_bounds__(256) tern_quantize_fp8(const bf16_t *x, unsigned char *out,
                                                                    float *scales, int k) {
    __shared__ float scratch[32];
    const long long row = blockIdx.x;
    const uint4 *in = (const uint4 *)(x + row * k);
    const int chunks = k >> 3;
    tern_grid_dependency();
    float amax = 0.0f;
    float v[8];
    for (int i = threadIdx.x; i < chunks; i += blockDim.x) {
        unpack_bf16x8(in[i], v);
        #pragma unroll
        for (int j = 0; j < 8; ++j) amax = fmaxf(amax, fabsf(v[j]));
    }
    amax = block_reduce(amax, scratch, true);
    const float scale = fmaxf(amax, 1e-30f) / 448.0f;
    if (threadIdx.x == 0) scales[row] = scale;
    uint2 *packed = (uint2 *)(out + row * k);
    for (int i = threadIdx.x; i < chunks; i += blockDim.x) {
        unpack_bf16x8(in[i], v);
        unsigned short pairs[4];
        #pragma unroll
        for (int j = 0; j < 4; ++j) {
            // The first operand goes to the upper byte: element 2j + 1.
            asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;\n"
                : "=h"(pairs[j]) : "f"(v[2 * j + 1] / scale), "f"(v[2 * j] / scale));
        }
        uint2 word;
        word.x = (unsigned int)pairs[0] | ((unsigned int)pairs[1] << 16);
        word.y = (unsigned int)pairs[2] | ((unsigned int)pairs[3] << 16);
        packed[i] = word;
    }
}

"""#
}
