// AVX2 and AVX-512 versions of the online-softmax update (see tern_attn_update in
// tern_internal.h). Per key: a q·k dot product with four accumulators; then one vector exp
// over all the scores of the step, and the weighted V sum with four head_dim vectors in
// flight so that the FMA chains overlap.
#include "tern_internal.h"

#if defined(__x86_64__)
#include "simd_math.h"

__attribute__((target("avx512f,avx2,fma"))) static inline __mmask16 tail_mask(int remaining) {
    return remaining >= 16 ? (__mmask16)0xffff
                           : remaining <= 0 ? (__mmask16)0 : (__mmask16)((1u << remaining) - 1);
}

__attribute__((target("avx512f,avx2,fma"))) void tern_attn_update_avx512(
    const float *q, const float *k, const float *v, int64_t stride, int n, int head_dim,
    float scale, float *m, float *l, float *acc, float *scores) {
    float mx = *m;
    for (int i = 0; i < n; i++) {
        const float *ki = k + i * stride;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (int d = 0; d < head_dim; d += 64) {
            const __mmask16 m0 = tail_mask(head_dim - d), m1 = tail_mask(head_dim - d - 16);
            const __mmask16 m2 = tail_mask(head_dim - d - 32), m3 = tail_mask(head_dim - d - 48);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, q + d), _mm512_maskz_loadu_ps(m0, ki + d), s0);
            s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, q + d + 16), _mm512_maskz_loadu_ps(m1, ki + d + 16), s1);
            s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m2, q + d + 32), _mm512_maskz_loadu_ps(m2, ki + d + 32), s2);
            s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m3, q + d + 48), _mm512_maskz_loadu_ps(m3, ki + d + 48), s3);
        }
        const float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))) * scale;
        scores[i] = s;
        if (s > mx) mx = s;
    }
    const float corr = expf(*m - mx);
    __m512 psum = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        const __mmask16 mk = tail_mask(n - i);
        const __m512 s = _mm512_maskz_loadu_ps(mk, scores + i);
        const __m512 p = _mm512_maskz_mov_ps(mk, tern_exp512(_mm512_sub_ps(s, _mm512_set1_ps(mx))));
        _mm512_mask_storeu_ps(scores + i, mk, p);
        psum = _mm512_add_ps(psum, p);
    }
    *l = *l * corr + _mm512_reduce_add_ps(psum);
    *m = mx;

    const __m512 c = _mm512_set1_ps(corr);
    for (int d = 0; d < head_dim; d += 64) {
        const __mmask16 m0 = tail_mask(head_dim - d), m1 = tail_mask(head_dim - d - 16);
        const __mmask16 m2 = tail_mask(head_dim - d - 32), m3 = tail_mask(head_dim - d - 48);
        __m512 a0 = _mm512_mul_ps(_mm512_maskz_loadu_ps(m0, acc + d), c);
        __m512 a1 = _mm512_mul_ps(_mm512_maskz_loadu_ps(m1, acc + d + 16), c);
        __m512 a2 = _mm512_mul_ps(_mm512_maskz_loadu_ps(m2, acc + d + 32), c);
        __m512 a3 = _mm512_mul_ps(_mm512_maskz_loadu_ps(m3, acc + d + 48), c);
        for (int i = 0; i < n; i++) {
            const float *vi = v + i * stride + d;
            const __m512 p = _mm512_set1_ps(scores[i]);
            a0 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m0, vi), a0);
            a1 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m1, vi + 16), a1);
            a2 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m2, vi + 32), a2);
            a3 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m3, vi + 48), a3);
        }
        _mm512_mask_storeu_ps(acc + d, m0, a0);
        _mm512_mask_storeu_ps(acc + d + 16, m1, a1);
        _mm512_mask_storeu_ps(acc + d + 32, m2, a2);
        _mm512_mask_storeu_ps(acc + d + 48, m3, a3);
    }
}

__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) void tern_attn_update_avx2(
    const float *q, const float *k, const float *v, int64_t stride, int n, int head_dim,
    float scale, float *m, float *l, float *acc, float *scores) {
    const int hd8 = head_dim / 8 * 8;
    float mx = *m;
    for (int i = 0; i < n; i++) {
        const float *ki = k + i * stride;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        int d = 0;
        for (; d + 32 <= hd8; d += 32) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(ki + d), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 8), _mm256_loadu_ps(ki + d + 8), s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 16), _mm256_loadu_ps(ki + d + 16), s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 24), _mm256_loadu_ps(ki + d + 24), s3);
        }
        for (; d < hd8; d += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(ki + d), s0);
        float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
        for (; d < head_dim; d++) s += q[d] * ki[d];
        s *= scale;
        scores[i] = s;
        if (s > mx) mx = s;
    }
    const float corr = expf(*m - mx);
    float sum = 0.0f;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 p = tern_exp256(_mm256_sub_ps(_mm256_loadu_ps(scores + i), _mm256_set1_ps(mx)));
        _mm256_storeu_ps(scores + i, p);
        sum += hsum256(p);
    }
    for (; i < n; i++) {
        scores[i] = expf(scores[i] - mx);
        sum += scores[i];
    }
    *l = *l * corr + sum;
    *m = mx;

    const __m256 c = _mm256_set1_ps(corr);
    int d = 0;
    for (; d + 32 <= hd8; d += 32) {
        __m256 a0 = _mm256_mul_ps(_mm256_loadu_ps(acc + d), c);
        __m256 a1 = _mm256_mul_ps(_mm256_loadu_ps(acc + d + 8), c);
        __m256 a2 = _mm256_mul_ps(_mm256_loadu_ps(acc + d + 16), c);
        __m256 a3 = _mm256_mul_ps(_mm256_loadu_ps(acc + d + 24), c);
        for (int j = 0; j < n; j++) {
            const float *vj = v + j * stride + d;
            const __m256 p = _mm256_set1_ps(scores[j]);
            a0 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj), a0);
            a1 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 8), a1);
            a2 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 16), a2);
            a3 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 24), a3);
        }
        _mm256_storeu_ps(acc + d, a0);
        _mm256_storeu_ps(acc + d + 8, a1);
        _mm256_storeu_ps(acc + d + 16, a2);
        _mm256_storeu_ps(acc + d + 24, a3);
    }
    for (; d < hd8; d += 8) {
        __m256 a = _mm256_mul_ps(_mm256_loadu_ps(acc + d), c);
        for (int j = 0; j < n; j++)
            a = _mm256_fmadd_ps(_mm256_set1_ps(scores[j]), _mm256_loadu_ps(v + j * stride + d), a);
        _mm256_storeu_ps(acc + d, a);
    }
    for (; d < head_dim; d++) {
        float a = acc[d] * corr;
        for (int j = 0; j < n; j++) a += scores[j] * v[j * stride + d];
        acc[d] = a;
    }
}
#endif
