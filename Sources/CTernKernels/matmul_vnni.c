// One-token (decode) matmul of Q4_0 / Q4_1 weights with AVX-512 VNNI, to f32 precision.
//
// The f32 decode kernel (matmul_tile_template.h) spends ~6 cycles a block widening nibbles and
// looking them up in a table of 16 floats: decode is bound by that, not by memory. Here the
// activations are cut once per call (shared by every row) into three int8 "limbs" per
// 32-value block b:
//     x_j = s_b · (l0_j + l1_j / 128 + l2_j / 128²),  s_b = max_j |x_j| / 127,
// l0 in [-127, 127] and l1, l2 in [-64, 64], so the representation error of x_j is below
// max_j |x_j| · 2⁻²² (f32 itself rounds at 2⁻²⁴): not a low-precision quantization (int8
// activations, as llama.cpp uses, err by 2⁻⁸), the results agree with the f32 kernel to
// about 1e-6 relative to Σ|w·x|. Σ_j q_j x_j over the 4-bit codes q is then
//     s_b / 128² · ((Σ q·l0 · 128 + Σ q·l1) · 128 + Σ q·l2)
// where each Σ is vpdpbusd (u8 codes × s8 limbs, 64 products an instruction), combined in
// int32 (at most 8·15·127·128² + ... < 2³¹), converted once; the scale and offset terms
// d·(...) + m·Σ x_j are f32 per lane. Four blocks go per zmm: 128-bit lane k holds block k,
// its low nibbles (values 0-15) in `lo`, its high ones (16-31) in `hi`, and the limbs are
// laid out to match; a row's last 1-3 blocks are read with masked loads, the missing ones as
// zeros (their limbs, scales and sums are zero padding). On a Zen 4 this runs at ~1.25 ns a
// block and thread (4.4 cycles) against ~1.7 for the f32 kernel, close to what DRAM gives
// two threads (~32 GB/s against the ~37 measured).
#include "tern_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target(TERN_TARGET_AVX512 ",avx512vnni"))), apply_to = function)

/// Limb l of the 4-block group starting at block b: 64 bytes of lo values, then 64 of hi.
static inline const int8_t *limb_at(const tern_vnni_x *p, int l, int64_t b) {
    return p->limbs + (size_t)l * (size_t)p->n_groups * 128 + (size_t)b * 32;
}

void tern_vnni_prepare(const float *x, int64_t cols, tern_vnni_x *p) {
    const int64_t nb = cols / 32, groups = (nb + 3) / 4;
    p->n_blocks = nb;
    p->n_groups = groups;
    for (int64_t b = 0; b < groups * 4; b++) {
        const int64_t g = b / 4;
        const int i = (int)(b % 4);
        int8_t *dst[3];
        for (int l = 0; l < 3; l++) dst[l] = p->limbs + (size_t)l * (size_t)groups * 128 + (size_t)g * 128 + 16 * i;
        if (b >= nb) {  // padding of the last group: nothing
            for (int l = 0; l < 3; l++) {
                memset(dst[l], 0, 16);
                memset(dst[l] + 64, 0, 16);
            }
            for (int k = 0; k < 4; k++) p->scale[4 * b + k] = 0.0f;
            p->sum4[b] = 0.0f;
            p->sum8[2 * b] = p->sum8[2 * b + 1] = 0.0f;
            continue;
        }
        const __m512 a = _mm512_loadu_ps(x + b * 32), c = _mm512_loadu_ps(x + b * 32 + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(c)));
        const float s = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        __m512 r[2] = {_mm512_mul_ps(a, _mm512_set1_ps(inv)), _mm512_mul_ps(c, _mm512_set1_ps(inv))};
        for (int l = 0; l < 3; l++) {
            for (int h = 0; h < 2; h++) {
                const __m512 q = _mm512_roundscale_ps(r[h], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                // r - q is exact (|r - q| <= 1/2, r a multiple of q's ulp), and so is the x128.
                r[h] = _mm512_mul_ps(_mm512_sub_ps(r[h], q), _mm512_set1_ps(128.0f));
                _mm_storeu_si128((__m128i *)(dst[l] + 64 * h), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(q)));
            }
        }
        const float sum = _mm512_reduce_add_ps(_mm512_add_ps(a, c));
        for (int k = 0; k < 4; k++) p->scale[4 * b + k] = s * (1.0f / 16384.0f);
        p->sum4[b] = sum;
        p->sum8[2 * b] = 0.0f;
        p->sum8[2 * b + 1] = sum;
    }
}

/// Adds 4 blocks (w: the first; each bb bytes, codes at qoff) of a row to the sums:
/// facc (per lane: d·s·P) and macc (Q4_1: m·Σx at odd lanes; Q4_0: d·Σx, times -8 later).
/// n (1-4) blocks are read: the bytes of missing ones load as 0 (masked loads do not fault).
static inline __attribute__((always_inline)) void q4_group(const uint8_t *w, const tern_vnni_x *p, int64_t b,
                                                            const int bb, const int q4_1, const int n,
                                                            __m512 *facc, __m256 *macc) {
    const int qoff = q4_1 ? 4 : 2;
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512i v;
    __m512i head;  // the group's first 64 bytes: all its f16 scales
    if (n == 4) {
        v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(w + qoff)));
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(w + bb + qoff)), 1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(w + 2 * bb + qoff)), 2);
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(w + 3 * bb + qoff)), 3);
        head = _mm512_loadu_si512(w);
    } else {
        v = _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)(w + qoff)));
        if (n > 1) v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(w + bb + qoff)), 1);
        if (n > 2) v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(w + 2 * bb + qoff)), 2);
        head = _mm512_maskz_loadu_epi8(n * bb >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n * bb)) - 1, w);
    }
    const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    const int8_t *l0 = limb_at(p, 0, b), *l1 = limb_at(p, 1, b), *l2 = limb_at(p, 2, b);
    __m512i acc = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(l0));
    acc = _mm512_dpbusd_epi32(acc, hi, _mm512_loadu_si512(l0 + 64));
    acc = _mm512_slli_epi32(acc, 7);
    acc = _mm512_dpbusd_epi32(acc, lo, _mm512_loadu_si512(l1));
    acc = _mm512_dpbusd_epi32(acc, hi, _mm512_loadu_si512(l1 + 64));
    acc = _mm512_slli_epi32(acc, 7);
    acc = _mm512_dpbusd_epi32(acc, lo, _mm512_loadu_si512(l2));
    acc = _mm512_dpbusd_epi32(acc, hi, _mm512_loadu_si512(l2 + 64));
    __m512 d;
    if (q4_1) {
        const __m256 dm = _mm256_cvtph_ps(_mm512_castsi512_si128(
            _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 5, 10, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), head)));
        d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6),
                                  _mm512_castps256_ps512(dm));
        *macc = _mm256_fmadd_ps(dm, _mm256_loadu_ps(p->sum8 + 2 * b), *macc);
    } else {
        const __m128 d4 = _mm_cvtph_ps(_mm512_castsi512_si128(_mm512_permutexvar_epi16(
            _mm512_setr_epi32(0 | 9 << 16, 18 | 27 << 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), head)));
        d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                  _mm512_castps128_ps512(d4));
        *macc = _mm256_fmadd_ps(_mm256_zextps128_ps256(d4), _mm256_zextps128_ps256(_mm_loadu_ps(p->sum4 + b)), *macc);
    }
    *facc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(d, _mm512_loadu_ps(p->scale + 4 * b)), *facc);
}

/// Σ_j w_j x_j of one Q4_0 (bb 18, codes at 2, m = -8d) or Q4_1 (bb 20, codes at 4) row.
static inline __attribute__((always_inline)) float q4_row(const uint8_t *row, const tern_vnni_x *p,
                                                           const int bb, const int q4_1) {
    const int64_t nb = p->n_blocks;
    __m512 facc = _mm512_setzero_ps();
    __m256 macc = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        // Two lines ahead per 80-byte group (see TERN_ROW_PREFETCH).
        _mm_prefetch((const char *)row + b * bb + TERN_ROW_PREFETCH, _MM_HINT_T0);
        _mm_prefetch((const char *)row + b * bb + TERN_ROW_PREFETCH + 64, _MM_HINT_T0);
        q4_group(row + b * bb, p, b, bb, q4_1, 4, &facc, &macc);
    }
    // The last 1-3 blocks: the missing ones read as 0 codes and 0 scales (their limbs, scales
    // and sums are 0 too), and nothing past the row is read.
    switch (nb - b) {
    case 3: q4_group(row + b * bb, p, b, bb, q4_1, 3, &facc, &macc); break;
    case 2: q4_group(row + b * bb, p, b, bb, q4_1, 2, &facc, &macc); break;
    case 1: q4_group(row + b * bb, p, b, bb, q4_1, 1, &facc, &macc); break;
    default: break;
    }
    // The upper half of a Q4_0 macc is 0.
    __m128 m = _mm_add_ps(_mm256_castps256_ps128(macc), _mm256_extractf128_ps(macc, 1));
    m = _mm_add_ps(m, _mm_movehl_ps(m, m));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    const float offset = q4_1 ? _mm_cvtss_f32(m) : -8.0f * _mm_cvtss_f32(m);
    return _mm512_reduce_add_ps(facc) + offset;
}

static void mm_q4_0_vnni(const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
    (void)t1;
    float *y = a->y + t0 * a->rows;
    for (int64_t r = r0; r < r1; r++) {
        const float s = q4_row(a->w + (size_t)r * a->row_bytes, a->xq, 18, 0);
        y[r] = a->accumulate ? y[r] + s : s;
    }
}

static void mm_q4_1_vnni(const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
    (void)t1;
    float *y = a->y + t0 * a->rows;
    for (int64_t r = r0; r < r1; r++) {
        const float s = q4_row(a->w + (size_t)r * a->row_bytes, a->xq, 20, 1);
        y[r] = a->accumulate ? y[r] + s : s;
    }
}

tern_mm_kernel tern_mm_kernel_vnni(int wtype) {
    switch (wtype) {
    case TERN_Q4_0: return mm_q4_0_vnni;
    case TERN_Q4_1: return mm_q4_1_vnni;
    default: return NULL;
    }
}

#pragma clang attribute pop
#endif
