// AVX2 + FMA + F16C matmul kernels: 8 f32 lanes, so a 32-value group is four chunks.
// With 16 ymm registers, prefill register tiles are 16 rows (two vectors of rows) x 6 tokens:
// 12 accumulators + 2 weights + 1 broadcast activation (TILE_ROWMAJOR); on Zen 3, one thread,
// 64 tokens, 8-23% more FLOP/s than the 3-row x 4-token tiles with the reduction along the
// lanes (which batch-invariant mode keeps, as 2 x 3 tiles with two accumulators each).
#include "tern_internal.h"

#include "simd_math.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target(TERN_TARGET_AVX2))), apply_to = function)

#define VF __m256
#define VL 8
#define VF_ZERO() _mm256_setzero_ps()
#define VF_LOAD(p) _mm256_loadu_ps(p)
#define VF_STORE(p, v) _mm256_store_ps(p, v)
#define VF_ADD(a, b) _mm256_add_ps(a, b)
#define VF_FMA(a, b, acc) _mm256_fmadd_ps(a, b, acc)
#define VF_REDUCE(v) reduce_add(v)
#define TILE_RP 3
#define TILE_TP 4
#define TILE_RP_INVARIANT 2  // batch-invariant panels: 2 x 2 x 3 accumulators of 16 ymm
#define TILE_TP_INVARIANT 3
#define TILE_FEW_PASS 5  // tokens of a few-token pass: 2 x 5 accumulators of 16 ymm
#define TILE_ROWMAJOR    // prefill tiles with the rows in the lanes (16 rows x 6 tokens)

static inline float reduce_add(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float half_at(const uint8_t *p) { return _cvtsh_ss(tern_load_u16(p)); }

static inline __m256i bytes8(const uint8_t *p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

/// Low (high == 0) or high nibbles of 8 bytes, as 8 int32.
static inline __m256i nibbles(const uint8_t *p, int high) {
    const __m256i v = bytes8(p);
    return high ? _mm256_srli_epi32(v, 4) : _mm256_and_si256(v, _mm256_set1_epi32(0x0f));
}

/// q * d + m for 8 int32 q. For m = -k·d (k a power of two) this equals (q - k)·d exactly:
/// the product is exact and the FMA rounds once.
static inline __m256 scale_offset(__m256i q, float d, float m) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(d), _mm256_set1_ps(m));
}

/// Adds 16 to lane i when bit i of `bits` (8 bits) is set.
static inline __m256i fifth_bit(__m256i q, uint32_t bits) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i bit = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)bits), lane),
                                         _mm256_set1_epi32(1));
    return _mm256_or_si256(q, _mm256_slli_epi32(bit, 4));
}

// Chunk c (8 values) of a 32-value Q4/Q5 group: bytes 8 * (c & 1), nibble c >> 1.
static inline __m256 deq_q4_0(const uint8_t *b, int g, int c) {
    (void)g;
    const float d = half_at(b);
    return scale_offset(nibbles(b + 2 + 8 * (c & 1), c >> 1), d, -8.0f * d);
}

static inline __m256 deq_q4_1(const uint8_t *b, int g, int c) {
    (void)g;
    return scale_offset(nibbles(b + 4 + 8 * (c & 1), c >> 1), half_at(b), half_at(b + 2));
}

/// Q8_0's scale for few-token rows (TILE_SCALES), converted in a scalar pass so that the
/// vector loop reads it as a broadcast load (on Zen 3 a 5-token step: 8.2 -> 6.1 ns per 32
/// values; Q4_0 and Q4_1 rows, bound by other things, gained nothing or lost).
static inline void scales_q8_0(const uint8_t *b, float *s) { s[0] = half_at(b); }

/// TILE_DEQ_SCALED of Q8_0: bit-identical to deq_q8_0.
static inline __m256 deq_q8_0_scaled(const uint8_t *b, int c, const float *s) {
    const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 2 + 8 * c)));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(q), _mm256_broadcast_ss(s));
}

static inline __m256 deq_q5_0(const uint8_t *b, int g, int c) {
    (void)g;
    const float d = half_at(b);
    const uint32_t qh = tern_load_u32(b + 2) >> (8 * c);
    return scale_offset(fifth_bit(nibbles(b + 6 + 8 * (c & 1), c >> 1), qh & 0xff), d, -16.0f * d);
}

static inline __m256 deq_q5_1(const uint8_t *b, int g, int c) {
    (void)g;
    const uint32_t qh = tern_load_u32(b + 4) >> (8 * c);
    return scale_offset(fifth_bit(nibbles(b + 8 + 8 * (c & 1), c >> 1), qh & 0xff), half_at(b),
                        half_at(b + 2));
}

static inline __m256 deq_q8_0(const uint8_t *b, int g, int c) {
    (void)g;
    const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 2 + 8 * c)));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(half_at(b)));
}

static inline __m256 deq_q4_k(const uint8_t *b, int g, int c) {
    int sc, mn;
    tern_kquant_scale_min(b + 4, g, &sc, &mn);
    const float dl = half_at(b) * (float)sc, ml = half_at(b + 2) * (float)mn;
    return scale_offset(nibbles(b + 16 + 32 * (g >> 1) + 8 * c, g & 1), dl, -ml);
}

static inline __m256 deq_q5_k(const uint8_t *b, int g, int c) {
    int sc, mn;
    tern_kquant_scale_min(b + 4, g, &sc, &mn);
    const float dl = half_at(b) * (float)sc, ml = half_at(b + 2) * (float)mn;
    __m256i high = _mm256_srl_epi32(bytes8(b + 16 + 8 * c), _mm_cvtsi32_si128(g));
    high = _mm256_slli_epi32(_mm256_and_si256(high, _mm256_set1_epi32(1)), 4);
    const __m256i q = nibbles(b + 48 + 32 * (g >> 1) + 8 * c, g & 1);
    return scale_offset(_mm256_or_si256(q, high), dl, -ml);
}

static inline __m256 deq_q6_k(const uint8_t *b, int g, int c) {
    const int h = g >> 2, s = g & 3;
    const float dl = half_at(b + 208) * (float)(int8_t)b[192 + 8 * h + 2 * s + (c >> 1)];
    const __m256i low = nibbles(b + 64 * h + 32 * (s & 1) + 8 * c, s >> 1);
    __m256i high = _mm256_srl_epi32(bytes8(b + 128 + 32 * h + 8 * c), _mm_cvtsi32_si128(2 * s));
    high = _mm256_and_si256(high, _mm256_set1_epi32(3));
    const __m256i q = _mm256_or_si256(low, _mm256_slli_epi32(high, 4));
    return scale_offset(q, dl, -32.0f * dl);
}

static inline __m256 deq_f32(const uint8_t *b, int g, int c) {
    (void)g;
    return _mm256_loadu_ps((const float *)b + 8 * c);
}

static inline __m256 deq_f16(const uint8_t *b, int g, int c) {
    (void)g;
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + 16 * c)));
}

static inline __m256 deq_bf16(const uint8_t *b, int g, int c) {
    (void)g;
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + 16 * c)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static inline float elem_f32(const uint8_t *row, int64_t i) { return ((const float *)row)[i]; }
static inline float elem_f16(const uint8_t *row, int64_t i) { return half_at(row + 2 * i); }
static inline float elem_bf16(const uint8_t *row, int64_t i) { return tern_bf16_to_f32(tern_load_u16(row + 2 * i)); }

#define TERN_MM_DISPATCH tern_mm_kernel_avx2
#define TERN_MM_SCALED_Q8_0
#include "matmul_tile_instances.h"

#pragma clang attribute pop
#endif
