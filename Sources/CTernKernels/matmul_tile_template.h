// Template of one SIMD matmul kernel, included once per weight type (hence no include
// guard) by matmul_avx2.c and matmul_avx512.c inside their target pragma. The includer
// defines:
//   VF, VL, VF_ZERO(), VF_LOAD(p), VF_FMA(a, b, acc), VF_REDUCE(v)   the vector ISA
//   TILE_RD             rows per tile for one token (decode: independent FMA chains)
//   TILE_RP, TILE_TP    rows x tokens per tile for several tokens (prefill)
//   TILE_NAME           the kernel's name (a tern_mm_kernel)
//   TILE_DEQ(b, g, c)   VL dequantized values: chunk c of 32-value group g of block b
//   TILE_GROUPS, TILE_BV, TILE_BB   groups per block, values per block, bytes per block
//   TILE_ELEM(row, i)   (plain types only) element i of a row, for the cols % 32 tail
//
// A tile holds R x T accumulators. Each chunk of a weight block is dequantized once into a
// register and multiplied with T tokens, so W is read once per T tokens; each x chunk is
// loaded once for R rows.

#define TILE_FN_(name) name##_tile
#define TILE_FN(name) TILE_FN_(name)

static inline __attribute__((always_inline)) void TILE_FN(TILE_NAME)(
    const tern_mm_args *a, int64_t r, int64_t t, const int R, const int T) {
    const int64_t nblk = a->cols / TILE_BV;
    const uint8_t *wr[4];
    const float *xt[4];
    VF acc[4][4];
#pragma clang loop unroll(full)
    for (int i = 0; i < R; i++) wr[i] = a->w + (size_t)(r + i) * a->row_bytes;
#pragma clang loop unroll(full)
    for (int j = 0; j < T; j++) xt[j] = a->x + (t + j) * a->cols;
#pragma clang loop unroll(full)
    for (int i = 0; i < R; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < T; j++) acc[i][j] = VF_ZERO();

    for (int64_t b = 0; b < nblk; b++) {
        for (int g = 0; g < TILE_GROUPS; g++) {
#pragma clang loop unroll(full)
            for (int c = 0; c < 32 / VL; c++) {
                VF w[4];
                const int64_t col = b * TILE_BV + g * 32 + c * VL;
#pragma clang loop unroll(full)
                for (int i = 0; i < R; i++) w[i] = TILE_DEQ(wr[i] + b * TILE_BB, g, c);
#pragma clang loop unroll(full)
                for (int j = 0; j < T; j++) {
                    const VF xv = VF_LOAD(xt[j] + col);
#pragma clang loop unroll(full)
                    for (int i = 0; i < R; i++) acc[i][j] = VF_FMA(w[i], xv, acc[i][j]);
                }
            }
        }
    }

#pragma clang loop unroll(full)
    for (int i = 0; i < R; i++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < T; j++) {
            float s = VF_REDUCE(acc[i][j]);
#ifdef TILE_ELEM
            for (int64_t col = nblk * TILE_BV; col < a->cols; col++)
                s += TILE_ELEM(wr[i], col) * xt[j][col];
#endif
            float *y = a->y + (t + j) * a->rows + r + i;
            *y = a->accumulate ? *y + s : s;
        }
    }
}

static void TILE_NAME(const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
    int64_t r = r0;
    if (t1 - t0 == 1) {
        for (; r + TILE_RD <= r1; r += TILE_RD) TILE_FN(TILE_NAME)(a, r, t0, TILE_RD, 1);
        for (; r < r1; r++) TILE_FN(TILE_NAME)(a, r, t0, 1, 1);
        return;
    }
    for (; r + TILE_RP <= r1; r += TILE_RP) {
        int64_t t = t0;
        for (; t + TILE_TP <= t1; t += TILE_TP) TILE_FN(TILE_NAME)(a, r, t, TILE_RP, TILE_TP);
        for (; t < t1; t++) TILE_FN(TILE_NAME)(a, r, t, TILE_RP, 1);
    }
    for (; r < r1; r++) {
        int64_t t = t0;
        for (; t + TILE_TP <= t1; t += TILE_TP) TILE_FN(TILE_NAME)(a, r, t, 1, TILE_TP);
        for (; t < t1; t++) TILE_FN(TILE_NAME)(a, r, t, 1, 1);
    }
}

#undef TILE_FN
#undef TILE_FN_
#undef TILE_NAME
#undef TILE_DEQ
#undef TILE_GROUPS
#undef TILE_BV
#undef TILE_BB
#undef TILE_ELEM
