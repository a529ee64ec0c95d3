// AVX2 and AVX-512 versions of the online-softmax update (see tern_attn_update in
// tern_internal.h), for one (query, head) row and up to 64 keys.
//
// Scores go VL keys at a time: VL accumulators (one per key) walk head_dim together, each
// q chunk loaded once, and a transpose-and-add tree turns them into one vector of VL
// scores (a full reduction per key would cost more than its dot product). Then one vector
// exp over the scores, and the weighted V sum with four head_dim vectors in flight. The
// rescale of the running state is skipped when the max did not grow (the common case
// after the first blocks).
#include "tern_internal.h"

#if defined(__x86_64__)
#include "simd_math.h"

__attribute__((target(TERN_TARGET_AVX512))) static inline __mmask16 tail_mask(int remaining) {
    return remaining >= 16 ? (__mmask16)0xffff
                           : remaining <= 0 ? (__mmask16)0 : (__mmask16)((1u << remaining) - 1);
}

/// Lane k of the result = the sum of the 16 lanes of v[k].
__attribute__((target(TERN_TARGET_AVX512))) static inline __m512 sum16x16(const __m512 *v) {
    __m512 a[8], b[4];
    for (int i = 0; i < 8; i++)
        a[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                             _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 4; i++) {
        const __m512d x = _mm512_castps_pd(a[2 * i]), y = _mm512_castps_pd(a[2 * i + 1]);
        b[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
    }
    // The 128-bit lane L of b[i] holds partial sums of vectors 4i..4i+3.
    const __m512 c0 = _mm512_add_ps(_mm512_shuffle_f32x4(b[0], b[1], 0x88), _mm512_shuffle_f32x4(b[0], b[1], 0xdd));
    const __m512 c1 = _mm512_add_ps(_mm512_shuffle_f32x4(b[2], b[3], 0x88), _mm512_shuffle_f32x4(b[2], b[3], 0xdd));
    return _mm512_add_ps(_mm512_shuffle_f32x4(c0, c1, 0x88), _mm512_shuffle_f32x4(c0, c1, 0xdd));
}

__attribute__((target(TERN_TARGET_AVX512))) void tern_attn_update_avx512(
    const float *q, const float *k, const float *v, int64_t stride, int n, int head_dim,
    float scale, float *m, float *l, float *acc, float *scores) {
    __m512 vmax = _mm512_set1_ps(*m);
    for (int i0 = 0; i0 < n; i0 += 16) {
        // A partial group repeats its last key; its extra lanes are masked off.
        const int cnt = n - i0 < 16 ? n - i0 : 16;
        const float *ku[16];
        __m512 dots[16];
        for (int u = 0; u < 16; u++) {
            ku[u] = k + (int64_t)(i0 + (u < cnt ? u : cnt - 1)) * stride;
            dots[u] = _mm512_setzero_ps();
        }
        for (int d = 0; d < head_dim; d += 16) {
            const __mmask16 md = tail_mask(head_dim - d);
            const __m512 qv = _mm512_maskz_loadu_ps(md, q + d);
            for (int u = 0; u < 16; u++)
                dots[u] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(md, ku[u] + d), dots[u]);
        }
        const __mmask16 mk = tail_mask(cnt);
        const __m512 sc = _mm512_mul_ps(sum16x16(dots), _mm512_set1_ps(scale));
        _mm512_mask_storeu_ps(scores + i0, mk, sc);
        vmax = _mm512_mask_max_ps(vmax, mk, vmax, sc);
    }
    const float mx = _mm512_reduce_max_ps(vmax);
    __m512 psum = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        const __mmask16 mk = tail_mask(n - i);
        const __m512 s = _mm512_maskz_loadu_ps(mk, scores + i);
        const __m512 p = _mm512_maskz_mov_ps(mk, tern_exp512(_mm512_sub_ps(s, _mm512_set1_ps(mx))));
        _mm512_mask_storeu_ps(scores + i, mk, p);
        psum = _mm512_add_ps(psum, p);
    }
    // exp(-inf) = 0 on the first update, when acc and l are still 0.
    const float corr = mx == *m ? 1.0f : _mm512_cvtss_f32(tern_exp512(_mm512_set1_ps(*m - mx)));
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

/// Lane k of the result = the sum of the 16 lanes of v[k], for 8 vectors.
__attribute__((target(TERN_TARGET_AVX512))) static inline __m256 sum8x16(const __m512 *v) {
    __m256 h[8];
    for (int k = 0; k < 8; k++)
        h[k] = _mm256_add_ps(_mm512_castps512_ps256(v[k]),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v[k]), 1)));
    const __m256 h01 = _mm256_hadd_ps(h[0], h[1]), h23 = _mm256_hadd_ps(h[2], h[3]);
    const __m256 h45 = _mm256_hadd_ps(h[4], h[5]), h67 = _mm256_hadd_ps(h[6], h[7]);
    const __m256 lo = _mm256_hadd_ps(h01, h23), hi = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31));
}

/// tern_attn_update_avx512 for R rows (the query heads of a GQA group at one position) that
/// see the same n <= 64 keys: each K and V chunk is loaded once for all of them. Scores go 8
/// keys at a time (R x 8 accumulators fit the registers); head_dim % 16 == 0.
__attribute__((target(TERN_TARGET_AVX512))) static inline __attribute__((always_inline)) void
attn_group_avx512(const tern_attn_row *rows, const int R, const float *k, const float *v, int64_t stride,
                  int n, int head_dim, float scale, float *scores) {
    __m512 vmax[3];
    for (int r = 0; r < R; r++) vmax[r] = _mm512_set1_ps(*rows[r].m);
    for (int i0 = 0; i0 < n; i0 += 8) {
        const int cnt = n - i0 < 8 ? n - i0 : 8;
        const float *ku[8];
        __m512 dots[3][8];
        for (int u = 0; u < 8; u++) {
            ku[u] = k + (int64_t)(i0 + (u < cnt ? u : cnt - 1)) * stride;
            for (int r = 0; r < R; r++) dots[r][u] = _mm512_setzero_ps();
        }
        for (int d = 0; d < head_dim; d += 16) {
            __m512 qv[3];
            for (int r = 0; r < R; r++) qv[r] = _mm512_loadu_ps(rows[r].q + d);
            for (int u = 0; u < 8; u++) {
                const __m512 kv = _mm512_loadu_ps(ku[u] + d);
                for (int r = 0; r < R; r++) dots[r][u] = _mm512_fmadd_ps(qv[r], kv, dots[r][u]);
            }
        }
        const __mmask16 mk = tail_mask(cnt);
        for (int r = 0; r < R; r++) {
            const __m512 sc = _mm512_castps256_ps512(_mm256_mul_ps(sum8x16(dots[r]), _mm256_set1_ps(scale)));
            _mm512_mask_storeu_ps(scores + 64 * r + i0, mk, sc);
            vmax[r] = _mm512_mask_max_ps(vmax[r], mk, vmax[r], sc);
        }
    }
    float corr[3];
    for (int r = 0; r < R; r++) {
        const float mx = _mm512_reduce_max_ps(vmax[r]);
        __m512 psum = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            const __mmask16 mk = tail_mask(n - i);
            const __m512 s = _mm512_maskz_loadu_ps(mk, scores + 64 * r + i);
            const __m512 p = _mm512_maskz_mov_ps(mk, tern_exp512(_mm512_sub_ps(s, _mm512_set1_ps(mx))));
            _mm512_mask_storeu_ps(scores + 64 * r + i, mk, p);
            psum = _mm512_add_ps(psum, p);
        }
        const float m_old = *rows[r].m;
        corr[r] = mx == m_old ? 1.0f : _mm512_cvtss_f32(tern_exp512(_mm512_set1_ps(m_old - mx)));
        *rows[r].l = *rows[r].l * corr[r] + _mm512_reduce_add_ps(psum);
        *rows[r].m = mx;
    }
    for (int d = 0; d < head_dim; d += 64) {
        const int chunks = head_dim - d >= 64 ? 4 : (head_dim - d) / 16;
        __m512 a[3][4];
        for (int r = 0; r < R; r++)
            for (int c = 0; c < 4; c++)
                a[r][c] = c < chunks ? _mm512_mul_ps(_mm512_loadu_ps(rows[r].acc + d + 16 * c), _mm512_set1_ps(corr[r]))
                                     : _mm512_setzero_ps();
        for (int j = 0; j < n; j++) {
            const float *vj = v + j * stride + d;
            __m512 vv[4];
            for (int c = 0; c < 4; c++) vv[c] = c < chunks ? _mm512_loadu_ps(vj + 16 * c) : _mm512_setzero_ps();
            for (int r = 0; r < R; r++) {
                const __m512 p = _mm512_set1_ps(scores[64 * r + j]);
                for (int c = 0; c < 4; c++) a[r][c] = _mm512_fmadd_ps(p, vv[c], a[r][c]);
            }
        }
        for (int r = 0; r < R; r++)
            for (int c = 0; c < chunks; c++) _mm512_storeu_ps(rows[r].acc + d + 16 * c, a[r][c]);
    }
}

__attribute__((target(TERN_TARGET_AVX512))) void tern_attn_group_avx512(
    const tern_attn_row *rows, int nr, const float *k, const float *v, int64_t stride, int n, int head_dim,
    float scale, float *scores) {
    switch (nr) {
    case 2: attn_group_avx512(rows, 2, k, v, stride, n, head_dim, scale, scores); break;
    case 3: attn_group_avx512(rows, 3, k, v, stride, n, head_dim, scale, scores); break;
    default: attn_group_avx512(rows, 1, k, v, stride, n, head_dim, scale, scores); break;
    }
}

/// Lane k of the result = the sum of the 8 lanes of v[k].
__attribute__((target(TERN_TARGET_AVX2))) static inline __m256 sum8x8(const __m256 *v) {
    const __m256 h01 = _mm256_hadd_ps(v[0], v[1]), h23 = _mm256_hadd_ps(v[2], v[3]);
    const __m256 h45 = _mm256_hadd_ps(v[4], v[5]), h67 = _mm256_hadd_ps(v[6], v[7]);
    const __m256 lo = _mm256_hadd_ps(h01, h23), hi = _mm256_hadd_ps(h45, h67);
    // lo = [sums of 0..3 over lanes 0-3 | over lanes 4-7]; the same for hi with 4..7.
    return _mm256_add_ps(_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31));
}

__attribute__((target(TERN_TARGET_AVX2))) static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target(TERN_TARGET_AVX2))) void tern_attn_update_avx2(
    const float *q, const float *k, const float *v, int64_t stride, int n, int head_dim,
    float scale, float *m, float *l, float *acc, float *scores) {
    const int hd8 = head_dim / 8 * 8;
    float mx = *m;
    for (int i0 = 0; i0 < n; i0 += 8) {
        const int cnt = n - i0 < 8 ? n - i0 : 8;
        const float *ku[8];
        __m256 dots[8];
        for (int u = 0; u < 8; u++) {
            ku[u] = k + (int64_t)(i0 + (u < cnt ? u : cnt - 1)) * stride;
            dots[u] = _mm256_setzero_ps();
        }
        for (int d = 0; d < hd8; d += 8) {
            const __m256 qv = _mm256_loadu_ps(q + d);
            for (int u = 0; u < 8; u++) dots[u] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(ku[u] + d), dots[u]);
        }
        float sc[8];
        _mm256_storeu_ps(sc, _mm256_mul_ps(sum8x8(dots), _mm256_set1_ps(scale)));
        for (int u = 0; u < cnt; u++) {
            for (int d = hd8; d < head_dim; d++) sc[u] += q[d] * ku[u][d] * scale;
            scores[i0 + u] = sc[u];
            if (sc[u] > mx) mx = sc[u];
        }
    }
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
    const float corr = mx == *m ? 1.0f : expf(*m - mx);
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
