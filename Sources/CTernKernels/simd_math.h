// Vector exp for the AVX2 and AVX-512 kernels (SiLU, softmax), and an 8 x 8 transpose. Include it inside a target
// region that enables the ISA. Cody-Waite reduction x = n·ln2 + r, |r| <= ln2/2, and the
// Cephes degree-6 polynomial for e^r: a few ulp over the float range; +inf above ~88.72,
// NaN kept, and 0 where the result would be subnormal (below ~-87.34): subnormal softmax
// weights would cost a microcode assist per FMA on Intel cores, for no visible effect.
#ifndef TERN_SIMD_MATH_H
#define TERN_SIMD_MATH_H

#include "tern_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TERN_EXP_C1 1.9875691500e-4f
#define TERN_EXP_C2 1.3981999507e-3f
#define TERN_EXP_C3 8.3334519073e-3f
#define TERN_EXP_C4 4.1665795894e-2f
#define TERN_EXP_C5 1.6666665459e-1f
#define TERN_EXP_C6 5.0000001201e-1f
#define TERN_LN2_HI 0.693359375f
#define TERN_LN2_LO -2.12194440e-4f
#define TERN_LOG2E 1.44269504088896341f

__attribute__((target(TERN_TARGET_AVX512))) static inline __m512 tern_exp512(__m512 x) {
    const __mmask16 normal = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33654f), _CMP_NLT_UQ);
    // max(lo, x) returns x when x is NaN.
    x = _mm512_max_ps(_mm512_set1_ps(-88.0f), x);
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(TERN_LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(TERN_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(TERN_LN2_LO), r);
    __m512 p = _mm512_set1_ps(TERN_EXP_C1);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(TERN_EXP_C2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(TERN_EXP_C3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(TERN_EXP_C4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(TERN_EXP_C5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(TERN_EXP_C6));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    // scalef: p · 2^n, with overflow to inf.
    return _mm512_maskz_mov_ps(normal, _mm512_scalef_ps(p, n));
}

/// An 8 x 8 float transpose in registers, in place: r[d] lane u = r[u] lane d.
__attribute__((target(TERN_TARGET_AVX2))) static inline void tern_transpose8_256(__m256 r[8]) {
    __m256 t[8], s[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // s[4i + e], 128-bit lane L: dim 4L + e of rows 4i..4i+3.
    for (int i = 0; i < 2; i++) {
        s[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        s[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
        s[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        s[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
    for (int e = 0; e < 4; e++) {
        r[e] = _mm256_permute2f128_ps(s[e], s[4 + e], 0x20);
        r[4 + e] = _mm256_permute2f128_ps(s[e], s[4 + e], 0x31);
    }
}

__attribute__((target(TERN_TARGET_AVX2))) static inline __m256 tern_exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.33654f), hi = _mm256_set1_ps(88.72283f);
    const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    const __m256 overflow = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
    __m256 xc = _mm256_max_ps(lo, x);
    xc = _mm256_min_ps(hi, xc);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(TERN_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(TERN_LN2_HI), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(TERN_LN2_LO), r);
    __m256 p = _mm256_set1_ps(TERN_EXP_C1);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(TERN_EXP_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(TERN_EXP_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(TERN_EXP_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(TERN_EXP_C5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(TERN_EXP_C6));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // n is in [-126, 128]: build 2^n in two halves so that n = 128 does not overflow the
    // exponent field.
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    const __m256 s2 = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
    __m256 result = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    result = _mm256_andnot_ps(underflow, result);
    return _mm256_blendv_ps(result, _mm256_set1_ps(INFINITY), overflow);
}

#endif
#endif
