// AVX-512 matmul kernels: 16 f32 lanes, so a 32-value group is two chunks (for Q4/Q5 the
// low and the high nibbles of the same 16 bytes). Prefill register tiles are 4 rows x 4
// tokens: 16 zmm accumulators + 4 weights + 1 activation.
#include "tern_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target(TERN_TARGET_AVX512))), apply_to = function)

#define VF __m512
#define VL 16
#define VF_ZERO() _mm512_setzero_ps()
#define VF_LOAD(p) _mm512_loadu_ps(p)
#define VF_STORE(p, v) _mm512_store_ps(p, v)
#define VF_ADD(a, b) _mm512_add_ps(a, b)
#define VF_FMA(a, b, acc) _mm512_fmadd_ps(a, b, acc)
#define VF_REDUCE(v) _mm512_reduce_add_ps(v)
#define TILE_RP 4
#define TILE_TP 4
#define TILE_RP_INVARIANT 3  // batch-invariant panels: 2 x 3 x 4 accumulators of 32 zmm
#define TILE_TP_INVARIANT 4
#define TILE_FEW_PASS 8  // tokens of a few-token pass: 2 x 8 accumulators of 32 zmm

static inline float half_at(const uint8_t *p) { return _cvtsh_ss(tern_load_u16(p)); }

/// The f16 at p, converted and broadcast (vpbroadcastw + vcvtph2ps).
static inline __m512 half_vec(const uint8_t *p) {
    return _mm512_cvtph_ps(_mm256_set1_epi16((short)tern_load_u16(p)));
}

/// The adjacent f16 pair (d, m) at p, converted and broadcast: one load and one conversion.
static inline void half_pair(const uint8_t *p, __m512 *d, __m512 *m) {
    const __m512 v = _mm512_cvtph_ps(_mm256_set1_epi32((int)tern_load_u32(p)));
    *d = _mm512_moveldup_ps(v);
    *m = _mm512_movehdup_ps(v);
}

/// Low (high == 0) or high nibbles of 16 bytes, as 16 int32.
static inline __m512i nibbles(const uint8_t *p, int high) {
    const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
    return high ? _mm512_srli_epi32(v, 4) : _mm512_and_si512(v, _mm512_set1_epi32(0x0f));
}

/// q * d + m for 16 int32 q. For m = -k·d (k a power of two) this equals (q - k)·d exactly:
/// the product is exact and the FMA rounds once.
static inline __m512 scale_offset(__m512i q, __m512 d, __m512 m) {
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(q), d, m);
}

/// The 16 values a 4-bit code can take, j * d + m for j = 0...15, one FMA per block: a code
/// then dequantizes with one permute (vpermps reads only the low 4 bits of each index), and
/// each entry is exactly what scale_offset gives for that code.
static inline __m512 nibble_table(__m512 d, __m512 m) {
    const __m512 iota = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_fmadd_ps(iota, d, m);
}

/// 16 bytes, zero-extended to 16 int32: the low nibbles as permute indexes (c == 0) or,
/// shifted, the high ones.
static inline __m512i nibble_index(const uint8_t *p, int c) {
    const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
    return c ? _mm512_srli_epi32(v, 4) : v;
}

static inline __m512 deq_q4_0(const uint8_t *b, int g, int c) {
    (void)g;
    const __m512 d = half_vec(b);
    return _mm512_permutexvar_ps(nibble_index(b + 2, c),
                                 nibble_table(d, _mm512_mul_ps(d, _mm512_set1_ps(-8.0f))));
}

static inline __m512 deq_q4_1(const uint8_t *b, int g, int c) {
    (void)g;
    __m512 d, m;
    half_pair(b, &d, &m);
    return _mm512_permutexvar_ps(nibble_index(b + 4, c), nibble_table(d, m));
}

/// Scales of one-token rows (TILE_SCALES): Q4_0's d and -8·d, Q4_1's d and m, Q8_0's d.
static inline void scales_q4_0(const uint8_t *b, float *s) {
    s[0] = half_at(b);
    s[1] = s[0] * -8.0f;
}

static inline void scales_q4_1(const uint8_t *b, float *s) {
    _mm_storel_pi((__m64 *)s, _mm_cvtph_ps(_mm_cvtsi32_si128((int)tern_load_u32(b))));
}

static inline void scales_q8_0(const uint8_t *b, float *s) { s[0] = half_at(b); }

/// TILE_DEQ_SCALED of Q4_0 and Q4_1 (same nibble layout after `offset` bytes of scales):
/// bit-identical to deq_q4_0 / deq_q4_1.
static inline __m512 deq_q4_scaled(const uint8_t *b, int c, const float *s, int offset) {
    return _mm512_permutexvar_ps(nibble_index(b + offset, c),
                                 nibble_table(_mm512_set1_ps(s[0]), _mm512_set1_ps(s[1])));
}

static inline __m512 deq_q4_0_scaled(const uint8_t *b, int c, const float *s) { return deq_q4_scaled(b, c, s, 2); }
static inline __m512 deq_q4_1_scaled(const uint8_t *b, int c, const float *s) { return deq_q4_scaled(b, c, s, 4); }

static inline __m512 deq_q8_0_scaled(const uint8_t *b, int c, const float *s) {
    const __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 2 + 16 * c)));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(q), _mm512_set1_ps(s[0]));
}

/// Sets bit 4 of the lanes whose bit is set in `bits`.
static inline __m512i fifth_bit(__m512i q, uint32_t bits) {
    return _mm512_mask_or_epi32(q, (__mmask16)bits, q, _mm512_set1_epi32(16));
}

static inline __m512 deq_q5_0(const uint8_t *b, int g, int c) {
    (void)g;
    const __m512 d = half_vec(b);
    const uint32_t qh = tern_load_u32(b + 2);
    return scale_offset(fifth_bit(nibbles(b + 6, c), qh >> (16 * c)), d,
                        _mm512_mul_ps(d, _mm512_set1_ps(-16.0f)));
}

static inline __m512 deq_q5_1(const uint8_t *b, int g, int c) {
    (void)g;
    const uint32_t qh = tern_load_u32(b + 4);
    __m512 d, m;
    half_pair(b, &d, &m);
    return scale_offset(fifth_bit(nibbles(b + 8, c), qh >> (16 * c)), d, m);
}

static inline __m512 deq_q8_0(const uint8_t *b, int g, int c) {
    (void)g;
    const __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 2 + 16 * c)));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(q), half_vec(b));
}

static inline __m512 deq_q4_k(const uint8_t *b, int g, int c) {
    int sc, mn;
    tern_kquant_scale_min(b + 4, g, &sc, &mn);
    const float dl = half_at(b) * (float)sc, ml = half_at(b + 2) * (float)mn;
    return scale_offset(nibbles(b + 16 + 32 * (g >> 1) + 16 * c, g & 1), _mm512_set1_ps(dl),
                        _mm512_set1_ps(-ml));
}

static inline __m512 deq_q5_k(const uint8_t *b, int g, int c) {
    int sc, mn;
    tern_kquant_scale_min(b + 4, g, &sc, &mn);
    const float dl = half_at(b) * (float)sc, ml = half_at(b + 2) * (float)mn;
    const __m512i qh = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + 16 + 16 * c)));
    const __mmask16 high = _mm512_test_epi32_mask(qh, _mm512_set1_epi32(1 << g));
    const __m512i q = nibbles(b + 48 + 32 * (g >> 1) + 16 * c, g & 1);
    return scale_offset(_mm512_mask_or_epi32(q, high, q, _mm512_set1_epi32(16)), _mm512_set1_ps(dl),
                        _mm512_set1_ps(-ml));
}

static inline __m512 deq_q6_k(const uint8_t *b, int g, int c) {
    const int h = g >> 2, s = g & 3;
    const float dl = half_at(b + 208) * (float)(int8_t)b[192 + 8 * h + 2 * s + c];
    const __m512i low = nibbles(b + 64 * h + 32 * (s & 1) + 16 * c, s >> 1);
    __m512i high = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + 128 + 32 * h + 16 * c)));
    high = _mm512_and_si512(_mm512_srl_epi32(high, _mm_cvtsi32_si128(2 * s)), _mm512_set1_epi32(3));
    const __m512i q = _mm512_or_si512(low, _mm512_slli_epi32(high, 4));
    return scale_offset(q, _mm512_set1_ps(dl), _mm512_set1_ps(-32.0f * dl));
}

static inline __m512 deq_f32(const uint8_t *b, int g, int c) {
    (void)g;
    return _mm512_loadu_ps((const float *)b + 16 * c);
}

static inline __m512 deq_f16(const uint8_t *b, int g, int c) {
    (void)g;
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + 32 * c)));
}

static inline __m512 deq_bf16(const uint8_t *b, int g, int c) {
    (void)g;
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(b + 32 * c)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

static inline float elem_f32(const uint8_t *row, int64_t i) { return ((const float *)row)[i]; }
static inline float elem_f16(const uint8_t *row, int64_t i) { return half_at(row + 2 * i); }
static inline float elem_bf16(const uint8_t *row, int64_t i) { return tern_bf16_to_f32(tern_load_u16(row + 2 * i)); }

#define TERN_MM_DISPATCH tern_mm_kernel_avx512
#define TERN_MM_SCALED
#include "matmul_tile_instances.h"

#pragma clang attribute pop
#endif
