// Template of one SIMD matmul kernel, included once per weight type (hence no include
// guard) by matmul_tile_instances.h, inside matmul_avx2.c's or matmul_avx512.c's target pragma. The includer
// defines:
//   VF, VL, VF_ZERO(), VF_LOAD(p), VF_STORE(p, v), VF_ADD(a, b), VF_FMA(a, b, acc),
//   VF_REDUCE(v)        the vector ISA
//   TILE_RP, TILE_TP    rows x tokens of a prefill register tile (at most 4 x 16)
//   TILE_RP_INVARIANT, TILE_TP_INVARIANT   the same in batch-invariant mode, whose tiles keep
//                       two accumulators each (at most 4 x 4)
//   TILE_FEW_PASS       most tokens of one few-token pass (at most 8)
//   TILE_NAME           the kernel's name (a tern_mm_kernel)
//   TILE_DEQ(b, g, c)   VL dequantized values: chunk c of 32-value group g of block b
//   TILE_GROUPS, TILE_BV, TILE_BB   groups per block, values per block, bytes per block
//   TILE_ELEM(row, i)   (plain types only) element i of a row, for the cols % 32 tail
//   TILE_SCALES(b, s), TILE_DEQ_SCALED(b, c, s)   (optional, one-group types) the block's
//                       two scales as floats into s[0..1], and TILE_DEQ given them: few-token
//                       rows then read each scale as a broadcast memory operand
//
// One token (decode) is bound by the bandwidth of reading W: each block is dequantized in
// registers and multiplied with x right away, one row at a time. A single row stream lets
// the hardware prefetcher run at full DRAM bandwidth (interleaving 4 rows cut it by 3x on
// Zen 4); chunks alternate between two accumulators so that consecutive FMAs overlap.
//
// A few tokens (up to 2 x TILE_FEW_PASS) take the same rows, each dequantized chunk
// multiplied with every token's x before the next is decoded.
//
// More tokens (prefill) are bound by the FMAs. TILE_RP rows are dequantized, PANEL
// columns at a time, into an f32 panel in L1; then every TILE_TP-token tile of the token
// block runs a pure f32 register tile over it (TILE_RP x TILE_TP accumulators, TILE_RP +
// TILE_TP loads per TILE_RP x TILE_TP FMAs). Each weight is thus decoded once per token
// block (64 tokens), not once per token or per tile. A partial tile repeats its last row
// or token and keeps only the valid results.
//
// With TILE_ROWMAJOR (AVX2) prefill instead puts rows in the vector lanes: 16 dequantized rows
// are transposed into a column-major panel, and a 16 x 6 tile adds one broadcast x value times
// a column of 16 weights per step, so results need no horizontal sums.

#ifndef TERN_MM_COMMON
#define TERN_MM_COMMON

enum {
    PANEL = 512,            // columns per panel: a multiple of every block size (32, 256)
    ROW_SCALE_PIECE = 64,   // blocks whose scales few-token rows convert at a time
};

/// vacc[i * T + j] += panel[i, 0:kc] · xt[j][0:kc] (panel rows PANEL floats apart).
static inline __attribute__((always_inline)) void f32_tile(const float *panel, int64_t kc,
                                                           const float *const *xt, VF *vacc,
                                                           const int R, const int T) {
    VF acc[4][16];
#pragma clang loop unroll(full)
    for (int i = 0; i < R; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < T; j++) acc[i][j] = vacc[i * T + j];
    for (int64_t k = 0; k < kc; k += VL) {
        VF w[4];
#pragma clang loop unroll(full)
        for (int i = 0; i < R; i++) w[i] = VF_LOAD(panel + i * PANEL + k);
#pragma clang loop unroll(full)
        for (int j = 0; j < T; j++) {
            const VF xv = VF_LOAD(xt[j] + k);
#pragma clang loop unroll(full)
            for (int i = 0; i < R; i++) acc[i][j] = VF_FMA(w[i], xv, acc[i][j]);
        }
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < R; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < T; j++) vacc[i * T + j] = acc[i][j];
}

/// f32_tile with the few-token rows' summation order (batch-invariant mode): each (row,
/// token) keeps two accumulators, even VL-chunks in the first and odd in the second, as
/// TILE_NAME##_few does, so that VF_REDUCE(first + second) is bit for bit a one-token row.
/// vacc[(p * R + i) * T + j] is parity p's accumulator; kc is a multiple of 2 * VL.
static inline __attribute__((always_inline)) void f32_tile_parity(const float *panel, int64_t kc,
                                                                  const float *const *xt, VF *vacc,
                                                                  const int R, const int T) {
    VF acc[2][4][4];
#pragma clang loop unroll(full)
    for (int p = 0; p < 2; p++)
#pragma clang loop unroll(full)
        for (int i = 0; i < R; i++)
#pragma clang loop unroll(full)
            for (int j = 0; j < T; j++) acc[p][i][j] = vacc[(p * R + i) * T + j];
    for (int64_t k = 0; k < kc; k += 2 * VL) {
#pragma clang loop unroll(full)
        for (int p = 0; p < 2; p++) {
            VF w[4];
#pragma clang loop unroll(full)
            for (int i = 0; i < R; i++) w[i] = VF_LOAD(panel + i * PANEL + k + p * VL);
#pragma clang loop unroll(full)
            for (int j = 0; j < T; j++) {
                const VF xv = VF_LOAD(xt[j] + k + p * VL);
#pragma clang loop unroll(full)
                for (int i = 0; i < R; i++) acc[p][i][j] = VF_FMA(w[i], xv, acc[p][i][j]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int p = 0; p < 2; p++)
#pragma clang loop unroll(full)
        for (int i = 0; i < R; i++)
#pragma clang loop unroll(full)
            for (int j = 0; j < T; j++) vacc[(p * R + i) * T + j] = acc[p][i][j];
}

#ifdef TILE_ROWMAJOR
/// The row-major tiles' panels (16 rows x 256 columns, as dequantized and transposed): 32 KiB
/// per thread, shared by every weight type's kernel and kept off the stack: with them on it,
/// a debug build's batch-invariance test (which never runs these tiles) got other bits, as
/// if the larger frame overran a thread's stack.
static _Thread_local float rowmajor_rows[16 * 256] __attribute__((aligned(32)));
static _Thread_local float rowmajor_panel[256 * 16] __attribute__((aligned(32)));

/// Rows [0, 8) of src (row stride ss floats), columns [0, 8), written transposed to dst
/// (dst[c * ds + r] = src[r * ss + c]).
static inline __attribute__((always_inline)) void transpose8x8(const float *src, int64_t ss, float *dst, int64_t ds) {
    __m256 r[8];
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++) r[i] = _mm256_load_ps(src + i * ss);
    tern_transpose8_256(r);
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++) _mm256_store_ps(dst + i * ds, r[i]);
}
#endif
#endif

#define TILE_CAT_(name, suffix) name##suffix
#define TILE_CAT(name, suffix) TILE_CAT_(name, suffix)

/// y[t, r] for one row and the T <= TILE_FEW_PASS tokens [t0, t0 + T), dequantizing in
/// registers: each chunk of W is decoded once and multiplied with every token's x, and each
/// token's chunks alternate between two accumulators so that consecutive FMAs overlap. A
/// token's result is bit for bit what it gets alone (T = 1), so a speculative verification
/// step computes exactly the logits that one-token decode steps would.
static inline __attribute__((always_inline)) void TILE_CAT(TILE_NAME, _few)(
    const tern_mm_args *a, int64_t r, int64_t t0, const int T) {
    const int64_t nblk = a->cols / TILE_BV;
    const uint8_t *row = a->w + (size_t)r * a->row_bytes;
    const float *x = a->x + t0 * a->cols;
    const int64_t xs = a->cols;
    VF acc[2][TILE_FEW_PASS];
#pragma clang loop unroll(full)
    for (int j = 0; j < T; j++) acc[0][j] = acc[1][j] = VF_ZERO();
#define FEW_CHUNK(w, c, col)                                                                       \
    do {                                                                                            \
        _Pragma("clang loop unroll(full)") for (int j = 0; j < T; j++) {                            \
            acc[(c) & 1][j] = VF_FMA(w, VF_LOAD(x + j * xs + (col)), acc[(c) & 1][j]);              \
        }                                                                                           \
    } while (0)
#ifdef TILE_SCALES
    // The blocks' f16 scales are converted in a scalar pass over a piece of the row, so
    // that the vector loop reads them as broadcast memory operands: broadcasting them in
    // registers costs shuffles, and shuffles are what bound this loop.
    float scales[2 * ROW_SCALE_PIECE];
    for (int64_t b0 = 0; b0 < nblk; b0 += ROW_SCALE_PIECE) {
        const int64_t nb = nblk - b0 < ROW_SCALE_PIECE ? nblk - b0 : ROW_SCALE_PIECE;
        const uint8_t *piece = row + b0 * TILE_BB;
        // (Vectorized, these strided 2-byte loads become a slow gather emulation.)
#pragma clang loop vectorize(disable) interleave(disable)
        for (int64_t b = 0; b < nb; b++) TILE_SCALES(piece + b * TILE_BB, scales + 2 * b);
        for (int64_t b = 0; b < nb; b++) {
            // A line ahead per block (blocks are at most 34 bytes): the hardware prefetcher
            // stops at each 4 KiB page and restarts with every task's rows.
            _mm_prefetch((const char *)piece + b * TILE_BB + TERN_ROW_PREFETCH, _MM_HINT_T0);
#pragma clang loop unroll(full)
            for (int c = 0; c < 32 / VL; c++) {
                const VF w = TILE_DEQ_SCALED(piece + b * TILE_BB, c, scales + 2 * b);
                FEW_CHUNK(w, c, (b0 + b) * TILE_BV + c * VL);
            }
        }
    }
#else
    for (int64_t b = 0; b < nblk; b++) {
        for (int g = 0; g < TILE_GROUPS; g++) {
#pragma clang loop unroll(full)
            for (int c = 0; c < 32 / VL; c++) {
                const VF w = TILE_DEQ(row + b * TILE_BB, g, c);
                FEW_CHUNK(w, c, b * TILE_BV + g * 32 + c * VL);
            }
        }
    }
#endif
#undef FEW_CHUNK
#pragma clang loop unroll(full)
    for (int j = 0; j < T; j++) {
        float s = VF_REDUCE(VF_ADD(acc[0][j], acc[1][j]));
#ifdef TILE_ELEM
        for (int64_t col = nblk * TILE_BV; col < a->cols; col++) s += TILE_ELEM(row, col) * x[j * xs + col];
#endif
        float *y = a->y + (t0 + j) * a->rows + r;
        *y = a->accumulate ? *y + s : s;
    }
}

/// Columns [k0, k0 + kc) of a row, dequantized into out; kc is a multiple of 32.
static inline __attribute__((always_inline)) void TILE_CAT(TILE_NAME, _panel)(
    const uint8_t *row, int64_t k0, int64_t kc, float *out) {
    for (int64_t col = k0; col < k0 + kc; col += 32) {
        const uint8_t *block = row + col / TILE_BV * TILE_BB;
        const int g = (int)(col % TILE_BV) / 32;
#pragma clang loop unroll(full)
        for (int c = 0; c < 32 / VL; c++) VF_STORE(out + (col - k0) + c * VL, TILE_DEQ(block, g, c));
    }
}

/// TILE_NAME##_few for a run-time T in [1, TILE_FEW_PASS].
static inline __attribute__((always_inline)) void TILE_CAT(TILE_NAME, _pass)(
    const tern_mm_args *a, int64_t r, int64_t t0, int T) {
    switch (T) {
#define FEW_CASE(k)                                                                 \
    case k:                                                                         \
        TILE_CAT(TILE_NAME, _few)(a, r, t0, k);                                     \
        break;
        FEW_CASE(1) FEW_CASE(2) FEW_CASE(3) FEW_CASE(4) FEW_CASE(5)
#if TILE_FEW_PASS > 5
        FEW_CASE(6) FEW_CASE(7) FEW_CASE(8)
#endif
#undef FEW_CASE
    }
}

#ifdef TILE_ROWMAJOR
/// Prefill with the rows in the vector lanes (AVX2): 16 rows are dequantized 256 (KB)
/// columns at a time and transposed into a column-major panel (16 floats a column); a tile of
/// 16 rows x 6 tokens keeps 12 accumulators, each 8 rows of one token, fed per column by two
/// panel loads and six broadcast loads of x, and its results are stored with no horizontal
/// sums (which cost the R x T tiles about a tenth of their FMAs at Gemma 3 270M's 640 columns).
static __attribute__((noinline)) void TILE_CAT(TILE_NAME, _rowmajor)(
    const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
    enum { RB = 16, TT = 6, KB = 256, SUM = 32, TILES = (TERN_MM_TOKEN_BLOCK + TT - 1) / TT };
    float *const rows_buf = rowmajor_rows, *const panel = rowmajor_panel;
    __m256 vacc[TILES * 2 * TT];
    const int64_t simd_cols = a->cols / 32 * 32;  // plain types: the rest is a scalar tail
    const int n_tiles = (int)((t1 - t0 + TT - 1) / TT);
    for (int64_t r = r0; r < r1; r += RB) {
        const int nr = r1 - r < RB ? (int)(r1 - r) : RB;
        for (int v = 0; v < n_tiles * 2 * TT; v++) vacc[v] = _mm256_setzero_ps();
        for (int64_t k0 = 0; k0 < simd_cols; k0 += KB) {
            const int64_t kc = simd_cols - k0 < KB ? simd_cols - k0 : KB;
            for (int i = 0; i < RB; i++) {
                const int64_t ri = r + (i < nr ? i : nr - 1);
                TILE_CAT(TILE_NAME, _panel)(a->w + (size_t)ri * a->row_bytes, k0, kc, rows_buf + i * KB);
            }
            for (int64_t k = 0; k < kc; k += 8) {
                transpose8x8(rows_buf + k, KB, panel + k * RB, RB);
                transpose8x8(rows_buf + 8 * KB + k, KB, panel + k * RB + 8, RB);
            }
            for (int tile = 0; tile < n_tiles; tile++) {
                const int64_t t = t0 + (int64_t)tile * TT;
                const float *xt[TT];
                for (int j = 0; j < TT; j++) xt[j] = a->x + (t + j < t1 ? t + j : t1 - 1) * a->cols + k0;
                // Fresh accumulators every SUM columns, added to the tile's running sums: a
                // lane sums SUM products and then cols / SUM partial sums, so its rounding error
                // grows with SUM + cols / SUM, not with cols.
                for (int64_t ks = 0; ks < kc; ks += SUM) {
                    __m256 acc[2][TT];
#pragma clang loop unroll(full)
                    for (int j = 0; j < TT; j++) acc[0][j] = acc[1][j] = _mm256_setzero_ps();
                    const int64_t ke = ks + SUM < kc ? ks + SUM : kc;
                    for (int64_t k = ks; k < ke; k++) {
                        const __m256 w0 = _mm256_load_ps(panel + k * RB), w1 = _mm256_load_ps(panel + k * RB + 8);
#pragma clang loop unroll(full)
                        for (int j = 0; j < TT; j++) {
                            const __m256 xb = _mm256_broadcast_ss(xt[j] + k);
                            acc[0][j] = _mm256_fmadd_ps(w0, xb, acc[0][j]);
                            acc[1][j] = _mm256_fmadd_ps(w1, xb, acc[1][j]);
                        }
                    }
#pragma clang loop unroll(full)
                    for (int j = 0; j < TT; j++) {
                        vacc[(tile * 2) * TT + j] = _mm256_add_ps(vacc[(tile * 2) * TT + j], acc[0][j]);
                        vacc[(tile * 2 + 1) * TT + j] = _mm256_add_ps(vacc[(tile * 2 + 1) * TT + j], acc[1][j]);
                    }
                }
            }
        }
        for (int tile = 0; tile < n_tiles; tile++) {
            for (int j = 0; j < TT; j++) {
                const int64_t t = t0 + (int64_t)tile * TT + j;
                if (t >= t1) break;
                float out[RB] __attribute__((aligned(32)));
                _mm256_store_ps(out, vacc[(tile * 2) * TT + j]);
                _mm256_store_ps(out + 8, vacc[(tile * 2 + 1) * TT + j]);
                for (int i = 0; i < nr; i++) {
                    float s = out[i];
#ifdef TILE_ELEM
                    const uint8_t *row = a->w + (size_t)(r + i) * a->row_bytes;
                    for (int64_t col = simd_cols; col < a->cols; col++) s += TILE_ELEM(row, col) * a->x[t * a->cols + col];
#endif
                    float *y = a->y + t * a->rows + r + i;
                    *y = a->accumulate ? *y + s : s;
                }
            }
        }
    }
}
#endif

/// Rows [r0, r1) x tokens [t0, t1) through dequantized panels and R x T register tiles (with
/// two accumulators each when parity).
static inline __attribute__((always_inline)) void TILE_CAT(TILE_NAME, _panels)(
    const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0, int64_t t1, const int R, const int T,
    const int parity) {
    enum {
        ACC_PLAIN = (TERN_MM_TOKEN_BLOCK + TILE_TP - 1) / TILE_TP * TILE_RP * TILE_TP,
        ACC_PARITY = 2 * ((TERN_MM_TOKEN_BLOCK + TILE_TP_INVARIANT - 1) / TILE_TP_INVARIANT) * TILE_RP_INVARIANT *
                     TILE_TP_INVARIANT,
        MOST_ROWS = TILE_RP > TILE_RP_INVARIANT ? TILE_RP : TILE_RP_INVARIANT,
    };
    float panel[MOST_ROWS * PANEL] __attribute__((aligned(64)));
    VF vacc[ACC_PLAIN > ACC_PARITY ? ACC_PLAIN : ACC_PARITY];
    const int per_tile = R * T * (parity ? 2 : 1);
    const int64_t simd_cols = a->cols / 32 * 32;  // plain types: the rest is a scalar tail
    const int n_tiles = (int)((t1 - t0 + T - 1) / T);
    for (int64_t r = r0; r < r1; r += R) {
        const int nr = r1 - r < R ? (int)(r1 - r) : R;
        for (int v = 0; v < n_tiles * per_tile; v++) vacc[v] = VF_ZERO();
        for (int64_t k0 = 0; k0 < simd_cols; k0 += PANEL) {
            const int64_t kc = simd_cols - k0 < PANEL ? simd_cols - k0 : PANEL;
            for (int i = 0; i < R; i++) {
                const int64_t ri = r + (i < nr ? i : nr - 1);
                TILE_CAT(TILE_NAME, _panel)(a->w + (size_t)ri * a->row_bytes, k0, kc, panel + i * PANEL);
            }
            for (int tile = 0; tile < n_tiles; tile++) {
                const int64_t t = t0 + (int64_t)tile * T;
                const float *xt[16];
                for (int j = 0; j < T; j++) {
                    const int64_t tj = t + j < t1 ? t + j : t1 - 1;
                    xt[j] = a->x + tj * a->cols + k0;
                }
                if (parity)
                    f32_tile_parity(panel, kc, xt, vacc + tile * per_tile, R, T);
                else
                    f32_tile(panel, kc, xt, vacc + tile * per_tile, R, T);
            }
        }
        for (int tile = 0; tile < n_tiles; tile++) {
            for (int i = 0; i < nr; i++) {
                const uint8_t *row = a->w + (size_t)(r + i) * a->row_bytes;
                for (int j = 0; j < T; j++) {
                    const int64_t t = t0 + (int64_t)tile * T + j;
                    if (t >= t1) break;
                    const VF *v = vacc + tile * per_tile + i * T + j;
                    float s = VF_REDUCE(parity ? VF_ADD(v[0], v[R * T]) : v[0]);
#ifdef TILE_ELEM
                    for (int64_t col = simd_cols; col < a->cols; col++)
                        s += TILE_ELEM(row, col) * a->x[t * a->cols + col];
#else
                    (void)row;
#endif
                    float *y = a->y + t * a->rows + r + i;
                    *y = a->accumulate ? *y + s : s;
                }
            }
        }
    }
}

static void TILE_NAME(const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
    if (t1 - t0 <= 2 * TILE_FEW_PASS) {
        // One or two passes of at most TILE_FEW_PASS tokens (as even as may be) over each
        // row, the row in L1 for the second. Both this and the panel tiles below spend 4 FMAs
        // a token per 32 values; here each pass adds a decode, there each 3 rows a panel
        // store and reload. On Zen 3 (AVX2, one thread, SmolLM2's shapes) this is the faster
        // up to 5 tokens (Q4_1: 1.8x a one-token step at 5 tokens, the panels 3.3x), about
        // even at 8 to 10, and the panels win beyond. Each token's result is its one-token
        // result here.
        const int n = (int)(t1 - t0), first = n <= TILE_FEW_PASS ? n : (n + 1) / 2;
        for (int64_t r = r0; r < r1; r++) {
            TILE_CAT(TILE_NAME, _pass)(a, r, t0, first);
            if (first < n) TILE_CAT(TILE_NAME, _pass)(a, r, t0 + first, n - first);
        }
        return;
    }
    // Batch-invariant mode: panels whose tiles sum in the few-token rows' order (two
    // accumulators per (row, token)), so a token gets its one-token result at any count; the
    // tile is smaller (twice the accumulators in the same registers).
    if (a->batch_invariant)
        TILE_CAT(TILE_NAME, _panels)(a, r0, r1, t0, t1, TILE_RP_INVARIANT, TILE_TP_INVARIANT, 1);
    else
#ifdef TILE_ROWMAJOR
        TILE_CAT(TILE_NAME, _rowmajor)(a, r0, r1, t0, t1);
#else
        TILE_CAT(TILE_NAME, _panels)(a, r0, r1, t0, t1, TILE_RP, TILE_TP, 0);
#endif
}

#undef TILE_CAT
#undef TILE_CAT_
#undef TILE_NAME
#undef TILE_DEQ
#undef TILE_GROUPS
#undef TILE_BV
#undef TILE_BB
#undef TILE_ELEM
#undef TILE_SCALES
#undef TILE_DEQ_SCALED
