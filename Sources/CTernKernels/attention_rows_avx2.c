// AVX2 online-softmax update of many rows against one group of up to 8 keys: the AVX2
// counterpart of attention_rows_avx512.c (transposed keys, rows 4 at a time), for
// head_dim a multiple of 8.
#include "tern_internal.h"

#if defined(__x86_64__)
#include "simd_math.h"

#pragma clang attribute push(__attribute__((target(TERN_TARGET_AVX2))), apply_to = function)

static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void tern_attn_rows_avx2(const tern_attn_row *rows, int nr, const float *k, const float *v,
                         int64_t stride, int n, int head_dim, float scale, float *scratch) {
    float *kt = scratch;                    // [head_dim, 8], 32-byte aligned
    float *probs = scratch + head_dim * 8;  // [4, 8]
    for (int d0 = 0; d0 < head_dim; d0 += 8) {
        __m256 block[8];
        for (int u = 0; u < 8; u++) block[u] = u < n ? _mm256_loadu_ps(k + u * stride + d0) : _mm256_setzero_ps();
        tern_transpose8_256(block);
        for (int i = 0; i < 8; i++) _mm256_store_ps(kt + (d0 + i) * 8, block[i]);
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

    for (int r0 = 0; r0 < nr; r0 += 4) {
        // A partial group repeats its last row and does not write it back.
        const int cnt = nr - r0 < 4 ? nr - r0 : 4;
        const tern_attn_row *g[4];
        for (int i = 0; i < 4; i++) g[i] = &rows[r0 + (i < cnt ? i : cnt - 1)];

        __m256 even[4], odd[4];
        for (int i = 0; i < 4; i++) even[i] = odd[i] = _mm256_setzero_ps();
        for (int d = 0; d < head_dim; d += 2) {
            const __m256 k0 = _mm256_load_ps(kt + d * 8), k1 = _mm256_load_ps(kt + (d + 1) * 8);
            for (int i = 0; i < 4; i++) {
                even[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(g[i]->q + d), k0, even[i]);
                odd[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(g[i]->q + d + 1), k1, odd[i]);
            }
        }

        __m256 corr[4];
        for (int i = 0; i < 4; i++) {
            // Lanes in [lo, hi) are visible; the others get -inf scores and 0 weights.
            const __m256 visible = _mm256_castsi256_ps(_mm256_and_si256(
                _mm256_cmpgt_epi32(_mm256_set1_epi32(g[i]->hi), lane),
                _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(g[i]->lo - 1))));
            const __m256 s = _mm256_mul_ps(_mm256_add_ps(even[i], odd[i]), _mm256_set1_ps(scale));
            const float m_old = *g[i]->m;
            const float mx = fmaxf(m_old, hmax8(_mm256_blendv_ps(_mm256_set1_ps(-INFINITY), s, visible)));
            const __m256 p = _mm256_and_ps(visible, tern_exp256(_mm256_sub_ps(s, _mm256_set1_ps(mx))));
            _mm256_store_ps(probs + 8 * i, p);
            const float c = mx == m_old ? 1.0f : expf(m_old - mx);
            corr[i] = _mm256_set1_ps(c);
            if (i < cnt) {
                *g[i]->l = *g[i]->l * c + hsum8(p);
                *g[i]->m = mx;
            }
        }

        for (int d0 = 0; d0 < head_dim; d0 += 8) {
            __m256 a[4];
            for (int i = 0; i < 4; i++) a[i] = _mm256_mul_ps(_mm256_loadu_ps(g[i]->acc + d0), corr[i]);
            for (int u = 0; u < n; u++) {
                const __m256 vv = _mm256_loadu_ps(v + u * stride + d0);
                for (int i = 0; i < 4; i++) a[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(probs + 8 * i + u), vv, a[i]);
            }
            for (int i = 0; i < cnt; i++) _mm256_storeu_ps(g[i]->acc + d0, a[i]);
        }
    }
}

#pragma clang attribute pop
#endif
