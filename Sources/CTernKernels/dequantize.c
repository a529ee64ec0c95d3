// Portable block decoders for every supported GGML type (the reference the SIMD kernels
// are tested against), and the row-level dequantize / embedding lookup built on them.
//
// Layouts follow ggml-common.h. Each decoder evaluates in the same order and precision as
// ggml's dequantize_row_* (and gguf-py), so results are bit-identical to the reference:
// contraction into FMA is off here, since it would round differently on targets with FMA.
#include "tern_internal.h"

#pragma STDC FP_CONTRACT OFF

enum { QK = 32, QK_K = 256 };

// Q4_0: f16 d, 16 bytes; value j = low nibble of byte j, j + 16 = high nibble; (q - 8) * d.
static void decode_q4_0(const uint8_t *b, float *out) {
    const float d = tern_f16_to_f32(tern_load_u16(b));
    const uint8_t *qs = b + 2;
    for (int j = 0; j < QK / 2; j++) {
        out[j] = d * (float)((qs[j] & 0x0f) - 8);
        out[j + QK / 2] = d * (float)((qs[j] >> 4) - 8);
    }
}

// Q4_1: f16 d, f16 m, 16 bytes of nibbles; q * d + m.
static void decode_q4_1(const uint8_t *b, float *out) {
    const float d = tern_f16_to_f32(tern_load_u16(b));
    const float m = tern_f16_to_f32(tern_load_u16(b + 2));
    const uint8_t *qs = b + 4;
    for (int j = 0; j < QK / 2; j++) {
        out[j] = d * (float)(qs[j] & 0x0f) + m;
        out[j + QK / 2] = d * (float)(qs[j] >> 4) + m;
    }
}

// Q5_0: f16 d, u32 qh (bit j = fifth bit of value j), 16 bytes of nibbles; (q - 16) * d.
static void decode_q5_0(const uint8_t *b, float *out) {
    const float d = tern_f16_to_f32(tern_load_u16(b));
    const uint32_t qh = tern_load_u32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < QK / 2; j++) {
        const int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
        const int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
        out[j] = d * (float)(lo - 16);
        out[j + QK / 2] = d * (float)(hi - 16);
    }
}

// Q5_1: f16 d, f16 m, u32 qh, 16 bytes of nibbles; q * d + m.
static void decode_q5_1(const uint8_t *b, float *out) {
    const float d = tern_f16_to_f32(tern_load_u16(b));
    const float m = tern_f16_to_f32(tern_load_u16(b + 2));
    const uint32_t qh = tern_load_u32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < QK / 2; j++) {
        const int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
        const int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
        out[j] = d * (float)lo + m;
        out[j + QK / 2] = d * (float)hi + m;
    }
}

// Q8_0: f16 d, 32 int8; q * d.
static void decode_q8_0(const uint8_t *b, float *out) {
    const float d = tern_f16_to_f32(tern_load_u16(b));
    const int8_t *qs = (const int8_t *)(b + 2);
    for (int j = 0; j < QK; j++) out[j] = (float)qs[j] * d;
}

// Q2_K (84 bytes): scales[16] (low nibble scale, high nibble min), qs[64] (2 bits),
// f16 d, f16 dmin. Value 128c + 32s + l is bits 2s of qs[32c + l]; sub-blocks of 16.
static void decode_q2_k(const uint8_t *b, float *out) {
    const uint8_t *scales = b, *qs = b + 16;
    const float d = tern_f16_to_f32(tern_load_u16(b + 80));
    const float dmin = tern_f16_to_f32(tern_load_u16(b + 82));
    for (int i = 0; i < QK_K; i++) {
        const int c = i / 128, s = (i / 32) % 4, l = i % 32;
        const int q = (qs[32 * c + l] >> (2 * s)) & 3;
        const float dl = d * (float)(scales[i / 16] & 0x0f);
        const float ml = dmin * (float)(scales[i / 16] >> 4);
        out[i] = dl * (float)q - ml;
    }
}

// Q3_K (110 bytes): hmask[32], qs[64] (low 2 bits, as Q2_K), scales[12] (sixteen 6-bit
// scales, biased by 32), f16 d. The high bit of value 32j + l is bit j of hmask[l];
// a clear bit subtracts 4.
static void decode_q3_k(const uint8_t *b, float *out) {
    const uint8_t *hmask = b, *qs = b + 32, *sc = b + 96;
    const float d = tern_f16_to_f32(tern_load_u16(b + 108));
    int scales[16];
    for (int i = 0; i < 16; i++) {
        const int lo = i < 8 ? (sc[i] & 0x0f) : (sc[i - 8] >> 4);
        const int hi = (sc[8 + i % 4] >> (2 * (i / 4))) & 3;
        scales[i] = (int)(int8_t)(uint8_t)(lo | (hi << 4)) - 32;
    }
    for (int i = 0; i < QK_K; i++) {
        const int c = i / 128, s = (i / 32) % 4, l = i % 32;
        const int low = (qs[32 * c + l] >> (2 * s)) & 3;
        const int high = (hmask[l] >> (i / 32)) & 1;
        const float dl = d * (float)scales[i / 16];
        out[i] = dl * (float)(low - (high ? 0 : 4));
    }
}

// Q4_K (144 bytes): f16 d, f16 dmin, scales[12] (eight 6-bit scales and mins), qs[128].
// Sub-block j (32 values) is the low (j even) or high nibbles of qs[32 * (j / 2) ...];
// value = d * scale_j * q - dmin * min_j.
static void decode_q4_k(const uint8_t *b, float *out) {
    const float d = tern_f16_to_f32(tern_load_u16(b));
    const float dmin = tern_f16_to_f32(tern_load_u16(b + 2));
    const uint8_t *scales = b + 4, *qs = b + 16;
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        tern_kquant_scale_min(scales, j, &sc, &mn);
        const float dl = d * (float)sc, ml = dmin * (float)mn;
        const uint8_t *q = qs + 32 * (j / 2);
        const int shift = 4 * (j % 2);
        for (int l = 0; l < 32; l++) out[32 * j + l] = dl * (float)((q[l] >> shift) & 0x0f) - ml;
    }
}

// Q5_K (176 bytes): as Q4_K with qh[32] before qs[128]: bit j of qh[l] is the fifth bit
// of value 32j + l.
static void decode_q5_k(const uint8_t *b, float *out) {
    const float d = tern_f16_to_f32(tern_load_u16(b));
    const float dmin = tern_f16_to_f32(tern_load_u16(b + 2));
    const uint8_t *scales = b + 4, *qh = b + 16, *qs = b + 48;
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        tern_kquant_scale_min(scales, j, &sc, &mn);
        const float dl = d * (float)sc, ml = dmin * (float)mn;
        const uint8_t *q = qs + 32 * (j / 2);
        const int shift = 4 * (j % 2);
        for (int l = 0; l < 32; l++) {
            const int v = ((q[l] >> shift) & 0x0f) | (((qh[l] >> j) & 1) << 4);
            out[32 * j + l] = dl * (float)v - ml;
        }
    }
}

// Q6_K (210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], f16 d.
// Value 128h + 32s + l (l < 32): low bits from ql[64h + 32(s % 2) + l] >> 4(s / 2),
// high bits from qh[32h + l] >> 2s; value = d * scale[i / 16] * (q - 32).
static void decode_q6_k(const uint8_t *b, float *out) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = (const int8_t *)(b + 192);
    const float d = tern_f16_to_f32(tern_load_u16(b + 208));
    for (int i = 0; i < QK_K; i++) {
        const int h = i / 128, s = (i / 32) % 4, l = i % 32;
        const int low = (ql[64 * h + 32 * (s % 2) + l] >> (4 * (s / 2))) & 0x0f;
        const int high = (qh[32 * h + l] >> (2 * s)) & 3;
        const float dl = d * (float)scales[i / 16];
        out[i] = dl * (float)((low | (high << 4)) - 32);
    }
}

static void decode_f32(const uint8_t *b, float *out) { memcpy(out, b, 4); }
static void decode_f16(const uint8_t *b, float *out) { *out = tern_f16_to_f32(tern_load_u16(b)); }
static void decode_bf16(const uint8_t *b, float *out) { *out = tern_bf16_to_f32(tern_load_u16(b)); }

int tern_block_values(int wtype) {
    switch (wtype) {
    case TERN_F32: case TERN_F16: case TERN_BF16: return 1;
    case TERN_Q4_0: case TERN_Q4_1: case TERN_Q5_0: case TERN_Q5_1: case TERN_Q8_0: return QK;
    case TERN_Q2_K: case TERN_Q3_K: case TERN_Q4_K: case TERN_Q5_K: case TERN_Q6_K: return QK_K;
    default: return 0;
    }
}

int tern_block_bytes(int wtype) {
    switch (wtype) {
    case TERN_F32: return 4;
    case TERN_F16: case TERN_BF16: return 2;
    case TERN_Q4_0: return 18;
    case TERN_Q4_1: return 20;
    case TERN_Q5_0: return 22;
    case TERN_Q5_1: return 24;
    case TERN_Q8_0: return 34;
    case TERN_Q2_K: return 84;
    case TERN_Q3_K: return 110;
    case TERN_Q4_K: return 144;
    case TERN_Q5_K: return 176;
    case TERN_Q6_K: return 210;
    default: return 0;
    }
}

tern_block_decoder tern_block_decoder_for(int wtype) {
    switch (wtype) {
    case TERN_F32: return decode_f32;
    case TERN_F16: return decode_f16;
    case TERN_BF16: return decode_bf16;
    case TERN_Q4_0: return decode_q4_0;
    case TERN_Q4_1: return decode_q4_1;
    case TERN_Q5_0: return decode_q5_0;
    case TERN_Q5_1: return decode_q5_1;
    case TERN_Q8_0: return decode_q8_0;
    case TERN_Q2_K: return decode_q2_k;
    case TERN_Q3_K: return decode_q3_k;
    case TERN_Q4_K: return decode_q4_k;
    case TERN_Q5_K: return decode_q5_k;
    case TERN_Q6_K: return decode_q6_k;
    default: return NULL;
    }
}

int tern_type_supported(int wtype) { return tern_block_decoder_for(wtype) != NULL; }

int64_t tern_row_bytes(int wtype, int64_t cols) {
    const int bv = tern_block_values(wtype);
    if (bv == 0 || cols < 0 || cols % bv != 0) return 0;
    return cols / bv * tern_block_bytes(wtype);
}

static void dequantize_row(const uint8_t *row, int wtype, int64_t cols, float *out) {
    switch (wtype) {
    case TERN_F32:
        memcpy(out, row, (size_t)cols * sizeof(float));
        return;
    case TERN_F16:
        for (int64_t c = 0; c < cols; c++) out[c] = tern_f16_to_f32(tern_load_u16(row + 2 * c));
        return;
    case TERN_BF16:
        for (int64_t c = 0; c < cols; c++) out[c] = tern_bf16_to_f32(tern_load_u16(row + 2 * c));
        return;
    default: {
        const tern_block_decoder decode = tern_block_decoder_for(wtype);
        const int bv = tern_block_values(wtype), bb = tern_block_bytes(wtype);
        for (int64_t blk = 0; blk < cols / bv; blk++) decode(row + blk * bb, out + blk * bv);
    }
    }
}

void tern_dequantize_rows(const void *w, int wtype, int64_t cols, int64_t row_begin,
                          int64_t n_rows, float *out) {
    const int64_t rb = tern_row_bytes(wtype, cols);
    if (rb == 0) return;
    const uint8_t *base = (const uint8_t *)w;
    for (int64_t r = 0; r < n_rows; r++)
        dequantize_row(base + (row_begin + r) * rb, wtype, cols, out + r * cols);
}

void tern_get_rows(const void *w, int wtype, int64_t cols, const int32_t *ids, int64_t n,
                   float *out) {
    const int64_t rb = tern_row_bytes(wtype, cols);
    if (rb == 0) return;
    const uint8_t *base = (const uint8_t *)w;
    for (int64_t i = 0; i < n; i++) dequantize_row(base + ids[i] * rb, wtype, cols, out + i * cols);
}
