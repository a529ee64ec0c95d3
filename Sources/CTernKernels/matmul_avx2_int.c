// One-token (decode) matmul on AVX2 (Zen 3 class: no AVX-512, no VNNI) with integer dot
// products, to f32 precision, for Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K.
//
// The f32 decode kernel (matmul_tile_template.h) turns every weight into a float and spends
// two FMAs on it (scale/offset, then the product). Here the activations are cut once per
// call (shared by every row) into two int16 limbs per 32-value block b:
//     x_j = s_b · (h0_j + h1_j / 2^k),  s_b = max_j |x_j| / 32767,
// h0 in [-32767, 32767] and h1 in [-2^(k-1), 2^(k-1)], so the representation error of x_j
// is below max_j |x_j| · 2^-(16+k), at most 2⁻²² of it (k = 6 for Q8_0, 8 for the 5- and
// 6-bit types, 9 for Q4_K): not a low-precision quantization (int8 activations, as
// llama.cpp uses, err by 2⁻⁸); the results agree with the f32 kernel to ~3e-7 relative to
// Σ|w·x|. A block's raw codes q (unsigned, or Q8_0's signed bytes) are widened to int16 and
// vpmaddwd gives Σ q·h0 and Σ q·h1 in int32 (8 lanes), combined exactly as Σq·h0·2^k +
// Σq·h1 (k is as large as that stays below 2³¹ for the type's largest |q|), converted once
// and multiplied by d·s_b/2^k. Offsets (Q5_0's -16, Q6_K's -32, the K-quants' mins, Q5_1's
// m) are d·Σx_b terms taken from the represented sums of x, once per 8 blocks or per
// super-block. A row's 8 blocks' f16 scales come in by one gather.
//
// On the 2-core EPYC (Zen 3, AVX2) this machine's CI uses, one thread, weights from DRAM,
// ns per 32 values (f32 kernel -> this): Q8_0 4.8 -> 2.7, Q5_0 5.6 -> 3.7, Q4_K 4.2 -> 2.4,
// Q5_K 5.9 -> 2.5, Q6_K 6.7 -> 3.1. Q4_0 / Q4_1 stay on the f32 kernel: their decode is
// cheap enough there (~2.9 ns) that the four vpmaddwd a block (Zen 3 runs two a cycle, on
// the FMA pipes) are no faster.
#include "tern_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target(TERN_TARGET_AVX2))), apply_to = function)

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void tern_x16_prepare(const float *x, int64_t cols, int shift, void *mem, tern_x16 *p) {
    const int64_t nb = cols / 32, nb8 = (nb + 7) / 8 * 8;
    p->n_blocks = nb;
    p->h0 = mem;
    p->h1 = p->h0 + nb8 * 32;
    p->scale = (float *)(p->h1 + nb8 * 32);
    p->sum32 = p->scale + nb8;
    p->sum16 = p->sum32 + nb8;
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < nb; b++) {
        __m256 v[4], m = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(x + b * 32 + 8 * k);
            m = _mm256_max_ps(m, _mm256_and_ps(v[k], abs_mask));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float inv = amax > 0.0f ? 32767.0f / amax : 0.0f;
        __m256i q0[4], q1[4];
        for (int k = 0; k < 4; k++) {
            const __m256 r = _mm256_mul_ps(v[k], _mm256_set1_ps(inv));
            const __m256 h0 = _mm256_round_ps(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            // r - h0 is exact (|r - h0| <= 1/2), and so is the x2^shift.
            const __m256 r1 = _mm256_mul_ps(_mm256_sub_ps(r, h0), _mm256_set1_ps((float)(1 << shift)));
            q0[k] = _mm256_cvtps_epi32(h0);
            q1[k] = _mm256_cvtps_epi32(r1);
        }
        int16_t *d0 = p->h0 + b * 32, *d1 = p->h1 + b * 32;
        for (int k = 0; k < 4; k += 2) {
            // packs interleaves 128-bit lanes: [a0-3 b0-3 a4-7 b4-7]; the permute restores order.
            _mm256_storeu_si256((__m256i *)(d0 + 8 * k),
                                _mm256_permute4x64_epi64(_mm256_packs_epi32(q0[k], q0[k + 1]), 0xd8));
            _mm256_storeu_si256((__m256i *)(d1 + 8 * k),
                                _mm256_permute4x64_epi64(_mm256_packs_epi32(q1[k], q1[k + 1]), 0xd8));
        }
        const float s = amax / 32767.0f;
        p->scale[b] = s / (float)(1 << shift);
        for (int h = 0; h < 2; h++) {
            const __m256i a0 = _mm256_add_epi32(q0[2 * h], q0[2 * h + 1]);
            const __m256i a1 = _mm256_add_epi32(q1[2 * h], q1[2 * h + 1]);
            __m128i t0 = _mm_add_epi32(_mm256_castsi256_si128(a0), _mm256_extracti128_si256(a0, 1));
            __m128i t1 = _mm_add_epi32(_mm256_castsi256_si128(a1), _mm256_extracti128_si256(a1, 1));
            t0 = _mm_hadd_epi32(t0, t1);
            t0 = _mm_hadd_epi32(t0, t0);
            const int32_t s0 = _mm_cvtsi128_si32(t0), s1 = _mm_extract_epi32(t0, 1);
            p->sum16[2 * b + h] = s * (float)((double)s0 + (double)s1 / (double)(1 << shift));
        }
        p->sum32[b] = p->sum16[2 * b] + p->sum16[2 * b + 1];
    }
    for (int64_t b = nb; b < nb8; b++) {
        p->scale[b] = 0.0f;
        p->sum32[b] = 0.0f;
        p->sum16[2 * b] = p->sum16[2 * b + 1] = 0.0f;
    }
}

/// Σ w·x̃ of 32 values, int32 in 8 lanes per limb, converted and combined in f32.
static inline __attribute__((always_inline)) __m256 dot32(__m256i wlo, __m256i whi, const int16_t *h0,
                                                          const int16_t *h1, const int shift) {
    const __m256i a0 = _mm256_add_epi32(_mm256_madd_epi16(wlo, _mm256_loadu_si256((const __m256i *)h0)),
                                        _mm256_madd_epi16(whi, _mm256_loadu_si256((const __m256i *)(h0 + 16))));
    const __m256i a1 = _mm256_add_epi32(_mm256_madd_epi16(wlo, _mm256_loadu_si256((const __m256i *)h1)),
                                        _mm256_madd_epi16(whi, _mm256_loadu_si256((const __m256i *)(h1 + 16))));
    return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_slli_epi32(a0, shift), a1));
}

/// Σ w·x̃ of 16 values (one Q6_K sub-block).
static inline __attribute__((always_inline)) __m256 dot16(__m256i w, const int16_t *h0, const int16_t *h1,
                                                          const int shift) {
    const __m256i a0 = _mm256_madd_epi16(w, _mm256_loadu_si256((const __m256i *)h0));
    const __m256i a1 = _mm256_madd_epi16(w, _mm256_loadu_si256((const __m256i *)h1));
    return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_slli_epi32(a0, shift), a1));
}

static inline __m256i nib16(const uint8_t *q, int high) {
    const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)q));
    return high ? _mm256_srli_epi16(v, 4) : _mm256_and_si256(v, _mm256_set1_epi16(15));
}

/// Adds 16 to lane i of w where bit i of bits (16 bits) is set.
static inline __m256i fifth16(__m256i w, uint32_t bits) {
    const __m256i lane = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
                                           16384, (short)0x8000);
    const __m256i set = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_set1_epi16((short)bits), lane), lane);
    return _mm256_or_si256(w, _mm256_and_si256(set, _mm256_set1_epi16(16)));
}

/// The 32 codes of a Q5_0 / Q5_1 / Q8_0 block as int16: values 0-15, 16-31.
static inline __attribute__((always_inline)) void codes32(const uint8_t *blk, const int wtype, __m256i *lo,
                                                          __m256i *hi) {
    switch (wtype) {
    case TERN_Q5_0:
    case TERN_Q5_1: {
        const int o = wtype == TERN_Q5_0 ? 2 : 4;
        const uint32_t qh = tern_load_u32(blk + o);
        const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(blk + o + 4)));
        *lo = fifth16(_mm256_and_si256(v, _mm256_set1_epi16(15)), qh & 0xffff);
        *hi = fifth16(_mm256_srli_epi16(v, 4), qh >> 16);
        break;
    }
    default: {  // Q8_0
        *lo = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk + 2)));
        *hi = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk + 18)));
        break;
    }
    }
}

/// Σ_j w_j x_j of one row of a 32-value block type (bb bytes a block).
static inline __attribute__((always_inline)) float row32(const uint8_t *row, const tern_x16 *p, const int wtype,
                                                         const int bb) {
    const int64_t nb = p->n_blocks;
    const int has_min = wtype == TERN_Q5_1;
    __m256 facc0 = _mm256_setzero_ps(), facc1 = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
    const __m256i offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(bb));
    for (int64_t b0 = 0; b0 < nb; b0 += 8) {
        const uint8_t *base = row + b0 * bb;
        const int n = nb - b0 < 8 ? (int)(nb - b0) : 8;
        // The 8 blocks' first 4 bytes (d, and m for Q5_1) by one gather; lanes of missing
        // blocks stay 0.
        __m256i g;
        if (n == 8) {
            g = _mm256_i32gather_epi32((const int *)base, offsets, 1);
        } else {
            const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            g = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)base, offsets, live, 1);
        }
        const __m256i pick_lo = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 4, 5,
                                                 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
        const __m256i dl = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(g, pick_lo), 0x08);
        const __m256 d = _mm256_cvtph_ps(_mm256_castsi256_si128(dl));
        const __m256 sum = _mm256_loadu_ps(p->sum32 + b0);
        if (has_min) {
            const __m256 m = _mm256_cvtph_ps(_mm256_castsi256_si128(
                _mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_srli_epi32(g, 16), pick_lo), 0x08)));
            macc = _mm256_fmadd_ps(m, sum, macc);
        } else if (wtype != TERN_Q8_0) {
            macc = _mm256_fmadd_ps(d, sum, macc);
        }
        float f[8];
        _mm256_storeu_ps(f, _mm256_mul_ps(d, _mm256_loadu_ps(p->scale + b0)));
        // Read back as broadcast loads (a load port), not extracted in registers (shuffles).
        __asm__("" : : "r"(f) : "memory");
        const int16_t *h0 = p->h0 + b0 * 32, *h1 = p->h1 + b0 * 32;
#define ROW32_BLOCK(i)                                                                                   \
    do {                                                                                                \
        __m256i lo, hi;                                                                                 \
        codes32(base + (i) * bb, wtype, &lo, &hi);                                                      \
        const __m256 v = dot32(lo, hi, h0 + 32 * (i), h1 + 32 * (i), tern_x16_shift(wtype));           \
        if ((i) & 1) facc1 = _mm256_fmadd_ps(v, _mm256_set1_ps(f[i]), facc1);                           \
        else facc0 = _mm256_fmadd_ps(v, _mm256_set1_ps(f[i]), facc0);                                   \
    } while (0)
        for (int o = 0; o < 8 * bb; o += 64) _mm_prefetch((const char *)base + o + TERN_ROW_PREFETCH, _MM_HINT_T0);
        if (n == 8) {
#pragma clang loop unroll(full)
            for (int i = 0; i < 8; i++) ROW32_BLOCK(i);
        } else {
            for (int i = 0; i < n; i++) ROW32_BLOCK(i);
        }
#undef ROW32_BLOCK
    }
    const float off = hsum(macc);
    return hsum(_mm256_add_ps(facc0, facc1)) + (wtype == TERN_Q5_0 ? -16.0f : 1.0f) * off;
}

/// The 8 6-bit scales and mins of a Q4_K / Q5_K block, as bytes in two 64-bit words.
static inline void kquant_scales(const uint8_t *s, uint64_t *sc, uint64_t *mn) {
    const uint32_t a = tern_load_u32(s), b = tern_load_u32(s + 4), c = tern_load_u32(s + 8);
    const uint32_t sc_lo = a & 0x3f3f3f3f, mn_lo = b & 0x3f3f3f3f;
    const uint32_t sc_hi = (c & 0x0f0f0f0f) | ((a >> 6) & 0x03030303) << 4;
    const uint32_t mn_hi = ((c >> 4) & 0x0f0f0f0f) | ((b >> 6) & 0x03030303) << 4;
    *sc = (uint64_t)sc_hi << 32 | sc_lo;
    *mn = (uint64_t)mn_hi << 32 | mn_lo;
}

/// Σ_j w_j x_j of one Q4_K (q5 = 0) or Q5_K row.
static inline __attribute__((always_inline)) float row_q45k(const uint8_t *row, const tern_x16 *p, const int q5) {
    const int bb = q5 ? 176 : 144, qoff = q5 ? 48 : 16;
    const int64_t nsb = p->n_blocks / 8;
    __m256 facc0 = _mm256_setzero_ps(), facc1 = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < nsb; sb++) {
        const uint8_t *blk = row + sb * bb;
        for (int o = 0; o < bb; o += 64) _mm_prefetch((const char *)blk + o + TERN_ROW_PREFETCH, _MM_HINT_T0);
        uint64_t sc, mn;
        kquant_scales(blk + 4, &sc, &mn);
        const __m256 scv = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc)));
        const __m256 mnv = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn)));
        const float d = _cvtsh_ss(tern_load_u16(blk)), dmin = _cvtsh_ss(tern_load_u16(blk + 2));
        macc = _mm256_fmadd_ps(_mm256_mul_ps(mnv, _mm256_set1_ps(dmin)), _mm256_loadu_ps(p->sum32 + 8 * sb), macc);
        float f[8];
        _mm256_storeu_ps(f, _mm256_mul_ps(_mm256_mul_ps(scv, _mm256_set1_ps(d)), _mm256_loadu_ps(p->scale + 8 * sb)));
        __asm__("" : : "r"(f) : "memory");
        const int16_t *h0 = p->h0 + sb * 256, *h1 = p->h1 + sb * 256;
        __m256i qh0 = _mm256_setzero_si256(), qh1 = _mm256_setzero_si256();
        if (q5) {
            qh0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(blk + 16)));
            qh1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(blk + 32)));
        }
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++) {
            const uint8_t *q = blk + qoff + 32 * (j / 2);
            __m256i lo = nib16(q, j & 1), hi = nib16(q + 16, j & 1);
            if (q5) {
                // Bit j of qh moved to bit 4.
                const __m256i m16 = _mm256_set1_epi16(16);
                const __m256i b0 = j < 4 ? _mm256_slli_epi16(qh0, 4 - j) : _mm256_srli_epi16(qh0, j - 4);
                const __m256i b1 = j < 4 ? _mm256_slli_epi16(qh1, 4 - j) : _mm256_srli_epi16(qh1, j - 4);
                lo = _mm256_or_si256(lo, _mm256_and_si256(b0, m16));
                hi = _mm256_or_si256(hi, _mm256_and_si256(b1, m16));
            }
            const __m256 v = dot32(lo, hi, h0 + 32 * j, h1 + 32 * j, tern_x16_shift(q5 ? TERN_Q5_K : TERN_Q4_K));
            if (j & 1) facc1 = _mm256_fmadd_ps(v, _mm256_set1_ps(f[j]), facc1);
            else facc0 = _mm256_fmadd_ps(v, _mm256_set1_ps(f[j]), facc0);
        }
    }
    return hsum(_mm256_add_ps(facc0, facc1)) - hsum(macc);
}

/// Σ_j w_j x_j of one Q6_K row.
static inline __attribute__((always_inline)) float row_q6k(const uint8_t *row, const tern_x16 *p) {
    const int64_t nsb = p->n_blocks / 8;
    __m256 facc0 = _mm256_setzero_ps(), facc1 = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < nsb; sb++) {
        const uint8_t *blk = row + sb * 210;
        for (int o = 0; o < 210; o += 64) _mm_prefetch((const char *)blk + o + TERN_ROW_PREFETCH, _MM_HINT_T0);
        const float d = _cvtsh_ss(tern_load_u16(blk + 208));
        const __m128i sc = _mm_loadu_si128((const __m128i *)(blk + 192));
        const __m256 sa = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc)), _mm256_set1_ps(d));
        const __m256 sbv = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8))),
                                         _mm256_set1_ps(d));
        macc = _mm256_fmadd_ps(sa, _mm256_loadu_ps(p->sum16 + 16 * sb), macc);
        macc = _mm256_fmadd_ps(sbv, _mm256_loadu_ps(p->sum16 + 16 * sb + 8), macc);
        const __m256 s8 = _mm256_loadu_ps(p->scale + 8 * sb);
        float f[16];
        _mm256_storeu_ps(f, _mm256_mul_ps(sa, _mm256_permutevar8x32_ps(s8, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3))));
        _mm256_storeu_ps(f + 8,
                         _mm256_mul_ps(sbv, _mm256_permutevar8x32_ps(s8, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7))));
        __asm__("" : : "r"(f) : "memory");
        const int16_t *h0 = p->h0 + sb * 256, *h1 = p->h1 + sb * 256;
#pragma clang loop unroll(full)
        for (int h = 0; h < 2; h++) {
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * h));
#pragma clang loop unroll(full)
            for (int s = 0; s < 4; s++) {
                const __m256i ql = _mm256_loadu_si256((const __m256i *)(blk + 64 * h + 32 * (s & 1)));
                const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
                const __m256i low = s < 2 ? _mm256_and_si256(ql, m4) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), m4);
                // Bits 2s, 2s + 1 of qh moved to bits 4, 5 (what the 16-bit shifts carry over
                // from the neighbouring byte lands outside them).
                const __m256i hs = s == 0   ? _mm256_slli_epi16(qh, 4)
                                   : s == 1 ? _mm256_slli_epi16(qh, 2)
                                   : s == 2 ? qh
                                            : _mm256_srli_epi16(qh, 2);
                const __m256i q = _mm256_or_si256(low, _mm256_and_si256(hs, m30));
                const int g = 4 * h + s;  // 32-value group: sub-blocks 2g, 2g + 1
                const int k = tern_x16_shift(TERN_Q6_K);
                const __m256 va = dot16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(q)), h0 + 32 * g, h1 + 32 * g, k);
                const __m256 vb = dot16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(q, 1)), h0 + 32 * g + 16,
                                        h1 + 32 * g + 16, k);
                facc0 = _mm256_fmadd_ps(va, _mm256_set1_ps(f[2 * g]), facc0);
                facc1 = _mm256_fmadd_ps(vb, _mm256_set1_ps(f[2 * g + 1]), facc1);
            }
        }
    }
    return hsum(_mm256_add_ps(facc0, facc1)) - 32.0f * hsum(macc);
}

#define X16_KERNEL(name, expr)                                                                           \
    static void name(const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {         \
        (void)t1;                                                                                       \
        float *y = a->y + t0 * a->rows;                                                                 \
        const tern_x16 *p = a->xi;                                                                      \
        for (int64_t r = r0; r < r1; r++) {                                                             \
            const uint8_t *row = a->w + (size_t)r * a->row_bytes;                                       \
            const float s = expr;                                                                       \
            y[r] = a->accumulate ? y[r] + s : s;                                                        \
        }                                                                                               \
    }

X16_KERNEL(mm_q5_0_x16, row32(row, p, TERN_Q5_0, 22))
X16_KERNEL(mm_q5_1_x16, row32(row, p, TERN_Q5_1, 24))
X16_KERNEL(mm_q8_0_x16, row32(row, p, TERN_Q8_0, 34))
X16_KERNEL(mm_q4_k_x16, row_q45k(row, p, 0))
X16_KERNEL(mm_q5_k_x16, row_q45k(row, p, 1))
X16_KERNEL(mm_q6_k_x16, row_q6k(row, p))

tern_mm_kernel tern_mm_kernel_x16(int wtype) {
    switch (wtype) {
    case TERN_Q5_0: return mm_q5_0_x16;
    case TERN_Q5_1: return mm_q5_1_x16;
    case TERN_Q8_0: return mm_q8_0_x16;
    case TERN_Q4_K: return mm_q4_k_x16;
    case TERN_Q5_K: return mm_q5_k_x16;
    case TERN_Q6_K: return mm_q6_k_x16;
    default: return NULL;
    }
}

#pragma clang attribute pop
#endif
