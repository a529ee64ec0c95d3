// Internal declarations shared by the kernel files: GGML type ids and block geometry,
// half-precision conversions, ISA selection and the per-ISA kernel entry points.
#ifndef TERN_INTERNAL_H
#define TERN_INTERNAL_H

#include "tern_kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// GGML type ids (ggml.h, DType.swift).
enum {
    TERN_F32 = 0,
    TERN_F16 = 1,
    TERN_Q4_0 = 2,
    TERN_Q4_1 = 3,
    TERN_Q5_0 = 6,
    TERN_Q5_1 = 7,
    TERN_Q8_0 = 8,
    TERN_Q2_K = 10,
    TERN_Q3_K = 11,
    TERN_Q4_K = 12,
    TERN_Q5_K = 13,
    TERN_Q6_K = 14,
    TERN_BF16 = 30,
};

// ---- half precision ----------------------------------------------------------------

/// IEEE binary16 -> binary32, exact (subnormals, infinities and NaN included).
static inline float tern_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {
        // Subnormal half: normalise the mantissa into a binary32 exponent.
        int shift = 0;
        while ((mant & 0x400) == 0) {
            mant <<= 1;
            shift++;
        }
        bits = sign | ((uint32_t)(113 - shift) << 23) | ((mant & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float tern_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t tern_load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline uint32_t tern_load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K block's 12 scale bytes.
static inline void tern_kquant_scale_min(const uint8_t *s, int j, int *scale, int *min) {
    if (j < 4) {
        *scale = s[j] & 63;
        *min = s[j + 4] & 63;
    } else {
        *scale = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// ---- type geometry -----------------------------------------------------------------

/// Values per block (1 for plain types) and bytes per block; 0 for unsupported types.
int tern_block_values(int wtype);
int tern_block_bytes(int wtype);

/// Dequantizes one block of a quantized type (or one element of a plain type) into out.
typedef void (*tern_block_decoder)(const uint8_t *block, float *out);
tern_block_decoder tern_block_decoder_for(int wtype);

// ---- ISA selection -----------------------------------------------------------------

typedef enum { TERN_ISA_SCALAR = 0, TERN_ISA_AVX2 = 1, TERN_ISA_AVX512 = 2 } tern_isa;

/// Target attributes of the kernel families (what tern_active_isa checks for).
#define TERN_TARGET_AVX512 "avx512f,avx512bw,avx512vl,avx2,fma,f16c"
#define TERN_TARGET_AVX2 "avx2,fma,f16c"

/// The best kernel family allowed by the detected features and the current mask.
tern_isa tern_active_isa(void);

// ---- matmul ------------------------------------------------------------------------

/// Tokens per call of a matmul kernel: a block's activations (64 x cols floats) stay in L2
/// while the rows of a task stream past them.
#define TERN_MM_TOKEN_BLOCK 64

/// Bytes ahead of the block being read that one-token row kernels prefetch: the hardware
/// prefetcher stops at every 4 KiB page and starts over with every task's rows, and decode
/// streams ~100 MB a token (on a Zen 4 this took decode from ~6.3 to ~5.7 ms a step).
#ifndef TERN_ROW_PREFETCH
#define TERN_ROW_PREFETCH 2048
#endif

/// One tern_matmul call, as the row kernels see it.
typedef struct {
    const uint8_t *w;  // [rows, row_bytes]
    size_t row_bytes;
    int64_t rows, cols;
    const float *x;    // [n_tokens, cols]
    int64_t n_tokens;
    float *y;          // [n_tokens, rows]
    int accumulate;
    int batch_invariant;  // every token count takes the one-token arithmetic
    const struct tern_vnni_x *xq;  // x prepared for the VNNI decode kernels, else NULL
    const struct tern_x16 *xi;     // x prepared for the AVX2 integer decode kernels, else NULL
} tern_mm_args;

/// Computes y[t, r] for r in [r0, r1), t in [t0, t1); t1 - t0 <= TERN_MM_TOKEN_BLOCK.
typedef void (*tern_mm_kernel)(const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0,
                               int64_t t1);

/// The kernel of an ISA for a type, or NULL when that ISA has none for it.
tern_mm_kernel tern_mm_kernel_avx2(int wtype);
tern_mm_kernel tern_mm_kernel_avx512(int wtype);

/// One token's activations x [cols] (cols % 32 == 0) cut for the AVX-512 VNNI decode kernels
/// (matmul_vnni.c): per 32-value block b, three int8 limbs with x ≈ s_b·(l0 + l1/128 + l2/128²)
/// to within max|x_b|·2⁻²², the scale and Σ x_b, in groups of 4 blocks.
typedef struct tern_vnni_x {
    int64_t n_blocks, n_groups;  // n_groups = ceil(n_blocks / 4); the last is padded with 0s
    int8_t *limbs;  // [3, n_groups * 128], in the kernels' lane order
    float *scale;   // [n_groups * 16]: s_b / 128², 4 times each
    float *sum4;    // [n_groups * 4]: Σ x_b
    float *sum8;    // [n_groups * 8]: 0, Σ x_b pairs
} tern_vnni_x;
/// Fills p (its buffers sized for ceil(cols / 128) groups) from x.
void tern_vnni_prepare(const float *x, int64_t cols, tern_vnni_x *p);
/// The one-token VNNI kernel of a type (Q4_0, Q4_1; a->xq set), or NULL.
tern_mm_kernel tern_mm_kernel_vnni(int wtype);
/// 1 if the VNNI decode kernels may run: the AVX-512 family and AVX512VNNI, both allowed by
/// the mask.
int tern_vnni_active(void);

/// One token's activations x [cols] (cols % 32 == 0) cut for the AVX2 integer decode kernels
/// (matmul_avx2_int.c): per 32-value block b, two int16 limbs with x ≈ s_b·(h0 + h1/2^k)
/// to within max|x_b|·2^-(16+k) (k: tern_x16_shift), and the sums of that representation.
typedef struct tern_x16 {
    int64_t n_blocks;
    int16_t *h0, *h1;  // [n_blocks * 32] each, in x's order
    float *scale;      // [n_blocks rounded up to 8]: s_b / 2^k (0 past n_blocks)
    float *sum32;      // [same]: Σ of block b's represented values (0 past n_blocks)
    float *sum16;      // [2 x same]: Σ of its first and last 16 (0 past n_blocks)
} tern_x16;
/// Bytes of a tern_x16 buffer for cols values.
static inline size_t tern_x16_bytes(int64_t cols) {
    const size_t nb8 = (size_t)(cols / 32 + 7) / 8 * 8;
    return nb8 * (2 * 64 + 4 * 4);
}
/// The low limb's weight 2^-shift for a type's kernel: as large as its int32 sums allow.
static inline int tern_x16_shift(int wtype) {
    switch (wtype) {
    case TERN_Q4_K: return 9;
    case TERN_Q8_0: return 6;
    default: return 8;  // Q5_0, Q5_1, Q5_K, Q6_K
    }
}
/// Points p's arrays into mem (tern_x16_bytes(cols) bytes) and fills them from x.
void tern_x16_prepare(const float *x, int64_t cols, int shift, void *mem, tern_x16 *p);
/// The one-token AVX2 integer kernel of a type (a->xi set), or NULL.
tern_mm_kernel tern_mm_kernel_x16(int wtype);

// ---- attention ---------------------------------------------------------------------

/// Online-softmax update of one (query, head) with n consecutive keys:
/// scores s_i = scale * q·k_i; (m, l, acc) is the running max, sum of exp and
/// exp-weighted sum of v, rescaled when the max grows. k and v rows are `stride`
/// floats apart; scores is scratch for n floats.
typedef void (*tern_attn_update)(const float *q, const float *k, const float *v,
                                 int64_t stride, int n, int head_dim, float scale,
                                 float *m, float *l, float *acc, float *scores);
void tern_attn_update_scalar(const float *q, const float *k, const float *v, int64_t stride,
                             int n, int head_dim, float scale, float *m, float *l, float *acc,
                             float *scores);
void tern_attn_update_avx2(const float *q, const float *k, const float *v, int64_t stride,
                           int n, int head_dim, float scale, float *m, float *l, float *acc,
                           float *scores);
void tern_attn_update_avx512(const float *q, const float *k, const float *v, int64_t stride,
                             int n, int head_dim, float scale, float *m, float *l, float *acc,
                             float *scores);

/// One (query, head) row for tern_attn_rows_avx512: it sees keys [lo, hi) of the group.
typedef struct {
    const float *q;  // [head_dim]
    float *acc;      // [head_dim]
    float *m, *l;
    int lo, hi;
} tern_attn_row;

/// The online-softmax update of nr <= TERN_ATTN_GROUP_MAX rows that see the same n <= 64
/// keys (k and v point at the first): decode's query heads of one GQA group, sharing every
/// K and V load. head_dim % 16 == 0. scores: scratch of TERN_ATTN_GROUP_MAX * 64 floats.
typedef void (*tern_attn_group)(const tern_attn_row *rows, int nr, const float *k, const float *v,
                                int64_t stride, int n, int head_dim, float scale, float *scores);
void tern_attn_group_avx512(const tern_attn_row *rows, int nr, const float *k, const float *v, int64_t stride,
                            int n, int head_dim, float scale, float *scores);

enum {
    TERN_ATTN_GROUP_MAX = 3,
    TERN_ATTN_ROWS_MIN = 8,          // fewer rows are cheaper one at a time
    TERN_ATTN_ROWS_MAX_DIM = 256,    // head_dim bound of the transposed-key scratch
};

/// The online-softmax update of nr rows (each with a non-empty [lo, hi)) with the same
/// n keys, n <= 16 (AVX-512) or 8 (AVX2, which needs head_dim % 8 == 0).
/// scratch: 64-byte aligned, (head_dim + 4) * 16 floats.
typedef void (*tern_attn_rows)(const tern_attn_row *rows, int nr, const float *k, const float *v,
                               int64_t stride, int n, int head_dim, float scale, float *scratch);
void tern_attn_rows_avx512(const tern_attn_row *rows, int nr, const float *k, const float *v,
                           int64_t stride, int n, int head_dim, float scale, float *scratch);
void tern_attn_rows_avx2(const tern_attn_row *rows, int nr, const float *k, const float *v,
                         int64_t stride, int n, int head_dim, float scale, float *scratch);

// ---- elementwise -------------------------------------------------------------------

void tern_silu_mul_avx2(float *gate, const float *up, int64_t n);
void tern_silu_mul_avx512(float *gate, const float *up, int64_t n);
void tern_gelu_tanh_mul_avx2(float *gate, const float *up, int64_t n);
void tern_gelu_tanh_mul_avx512(float *gate, const float *up, int64_t n);

#endif
