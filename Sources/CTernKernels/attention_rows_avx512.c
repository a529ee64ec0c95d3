// AVX-512 online-softmax update of many rows against one group of up to 16 keys: the
// prefill case, where a key block is shared by 16 queries x the heads of a GQA group.
//
// The keys are transposed once (kt[d] = dim d of the 16 keys), so a row's 16 scores are
// one vector built by head_dim FMAs with q[d] broadcast: no per-key reduction, which in
// the one-row update costs as much as the dot products. Rows go 4 at a time, sharing each
// kt and V load and giving the FMA units independent chains. The transpose costs about as
// much as four rows' reductions, so the caller uses this only for 8 rows or more.
#include "tern_internal.h"

#if defined(__x86_64__)
#include "simd_math.h"

#pragma clang attribute push(__attribute__((target(TERN_TARGET_AVX512))), apply_to = function)

static inline __mmask16 lanes_below(int n) {
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/// In place: r[d] lane u = r[u] lane d.
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // s[4i + e], 128-bit lane L: dim 4L + e of rows 4i..4i+3.
    __m512 s[16];
    for (int i = 0; i < 4; i++) {
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        s[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        s[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        s[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        s[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    // A 4 x 4 transpose of 128-bit lanes among s[e], s[4 + e], s[8 + e], s[12 + e].
    for (int e = 0; e < 4; e++) {
        const __m512 x0 = _mm512_shuffle_f32x4(s[e], s[4 + e], 0x44);
        const __m512 x1 = _mm512_shuffle_f32x4(s[e], s[4 + e], 0xee);
        const __m512 x2 = _mm512_shuffle_f32x4(s[8 + e], s[12 + e], 0x44);
        const __m512 x3 = _mm512_shuffle_f32x4(s[8 + e], s[12 + e], 0xee);
        r[e] = _mm512_shuffle_f32x4(x0, x2, 0x88);
        r[4 + e] = _mm512_shuffle_f32x4(x0, x2, 0xdd);
        r[8 + e] = _mm512_shuffle_f32x4(x1, x3, 0x88);
        r[12 + e] = _mm512_shuffle_f32x4(x1, x3, 0xdd);
    }
}

void tern_attn_rows_avx512(const tern_attn_row *rows, int nr, const float *k, const float *v,
                           int64_t stride, int n, int head_dim, float scale, float *scratch) {
    float *kt = scratch;                     // [head_dim, 16], 64-byte aligned
    float *probs = scratch + head_dim * 16;  // [4, 16]
    for (int d0 = 0; d0 < head_dim; d0 += 16) {
        const __mmask16 md = lanes_below(head_dim - d0);
        __m512 block[16];
        for (int u = 0; u < 16; u++)
            block[u] = u < n ? _mm512_maskz_loadu_ps(md, k + u * stride + d0) : _mm512_setzero_ps();
        transpose16(block);
        for (int i = 0; i < 16 && d0 + i < head_dim; i++) _mm512_store_ps(kt + (d0 + i) * 16, block[i]);
    }

    for (int r0 = 0; r0 < nr; r0 += 4) {
        // A partial group repeats its last row and does not write it back.
        const int cnt = nr - r0 < 4 ? nr - r0 : 4;
        const tern_attn_row *g[4];
        for (int i = 0; i < 4; i++) g[i] = &rows[r0 + (i < cnt ? i : cnt - 1)];

        __m512 even[4], odd[4];
        for (int i = 0; i < 4; i++) even[i] = odd[i] = _mm512_setzero_ps();
        int d = 0;
        for (; d + 2 <= head_dim; d += 2) {
            const __m512 k0 = _mm512_load_ps(kt + d * 16), k1 = _mm512_load_ps(kt + (d + 1) * 16);
            for (int i = 0; i < 4; i++) {
                even[i] = _mm512_fmadd_ps(_mm512_set1_ps(g[i]->q[d]), k0, even[i]);
                odd[i] = _mm512_fmadd_ps(_mm512_set1_ps(g[i]->q[d + 1]), k1, odd[i]);
            }
        }
        if (d < head_dim)
            for (int i = 0; i < 4; i++)
                even[i] = _mm512_fmadd_ps(_mm512_set1_ps(g[i]->q[d]), _mm512_load_ps(kt + d * 16), even[i]);

        __m512 corr[4];
        for (int i = 0; i < 4; i++) {
            const __mmask16 visible = lanes_below(g[i]->hi) & (__mmask16)~lanes_below(g[i]->lo);
            const __m512 s = _mm512_mul_ps(_mm512_add_ps(even[i], odd[i]), _mm512_set1_ps(scale));
            const float m_old = *g[i]->m;
            const float mx = fmaxf(m_old, _mm512_mask_reduce_max_ps(visible, s));
            const __m512 p = _mm512_maskz_mov_ps(visible, tern_exp512(_mm512_sub_ps(s, _mm512_set1_ps(mx))));
            _mm512_store_ps(probs + 16 * i, p);
            const float c = mx == m_old ? 1.0f : _mm512_cvtss_f32(tern_exp512(_mm512_set1_ps(m_old - mx)));
            corr[i] = _mm512_set1_ps(c);
            if (i < cnt) {
                *g[i]->l = *g[i]->l * c + _mm512_reduce_add_ps(p);
                *g[i]->m = mx;
            }
        }

        for (int d0 = 0; d0 < head_dim; d0 += 16) {
            const __mmask16 md = lanes_below(head_dim - d0);
            __m512 a[4];
            for (int i = 0; i < 4; i++) a[i] = _mm512_mul_ps(_mm512_maskz_loadu_ps(md, g[i]->acc + d0), corr[i]);
            for (int u = 0; u < n; u++) {
                const __m512 vv = _mm512_maskz_loadu_ps(md, v + u * stride + d0);
                for (int i = 0; i < 4; i++) a[i] = _mm512_fmadd_ps(_mm512_set1_ps(probs[16 * i + u]), vv, a[i]);
            }
            for (int i = 0; i < cnt; i++) _mm512_mask_storeu_ps(g[i]->acc + d0, md, a[i]);
        }
    }
}

#pragma clang attribute pop
#endif
