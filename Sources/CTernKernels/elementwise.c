// Elementwise ops of a transformer layer. They touch each value once, so they are
// bandwidth-bound and the portable loops (vectorized by the compiler) are enough, except
// SiLU whose exp would cost more than the FFN matmul's own work at decode: it has AVX2 and
// AVX-512 versions with a vector exp.
#include "tern_internal.h"

#include "simd_math.h"

void tern_rmsnorm(const float *x, const float *w, float *y, int64_t n_tokens, int64_t dim,
                  float eps, float weight_offset) {
    for (int64_t t = 0; t < n_tokens; t++) {
        const float *xt = x + t * dim;
        float *yt = y + t * dim;
        // Four double partial sums: exact enough for any dim, and still vectorizable.
        double s[4] = {0, 0, 0, 0};
        int64_t i = 0;
        for (; i + 4 <= dim; i += 4)
            for (int k = 0; k < 4; k++) s[k] += (double)xt[i + k] * (double)xt[i + k];
        for (; i < dim; i++) s[0] += (double)xt[i] * (double)xt[i];
        const double mean = ((s[0] + s[1]) + (s[2] + s[3])) / (double)dim;
        const float inv = (float)(1.0 / sqrt(mean + (double)eps));
        for (int64_t j = 0; j < dim; j++) yt[j] = xt[j] * inv * (w[j] + weight_offset);
    }
}

static void silu_mul_scalar(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void tern_silu_mul(float *gate, const float *up, int64_t n) {
#if defined(__x86_64__)
    switch (tern_active_isa()) {
    case TERN_ISA_AVX512: tern_silu_mul_avx512(gate, up, n); return;
    case TERN_ISA_AVX2: tern_silu_mul_avx2(gate, up, n); return;
    case TERN_ISA_SCALAR: break;
    }
#endif
    silu_mul_scalar(gate, up, n);
}

void tern_add(float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

#if defined(__x86_64__)
__attribute__((target(TERN_TARGET_AVX512))) void tern_silu_mul_avx512(float *gate,
                                                                     const float *up,
                                                                     int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        const __m512 u = _mm512_maskz_loadu_ps(m, up + i);
        const __m512 e = tern_exp512(_mm512_sub_ps(_mm512_setzero_ps(), g));
        const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(s, u));
    }
}

__attribute__((target(TERN_TARGET_AVX2))) void tern_silu_mul_avx2(float *gate, const float *up,
                                                           int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 e = tern_exp256(_mm256_sub_ps(_mm256_setzero_ps(), g));
        const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    silu_mul_scalar(gate + i, up + i, n - i);
}
#endif
