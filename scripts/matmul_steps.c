// Matmul step costs of the CPU kernels, outside Swift: a kernel change builds and is timed in
// seconds (a Swift release build takes minutes).
//
//   S=Sources/CTernKernels
//   clang -O3 -fno-math-errno -Wno-unused-function -I$S -I$S/include $S/*.c scripts/matmul_steps.c -o /tmp/steps -lm
//   /tmp/steps check        # every quantized type, 1-17 tokens, 37 rows, accumulate on/off:
//                           # worst error against dequantized weights in double, relative to
//                           # sum |w x| (MatmulKernelTests' measure and 1e-5 bound)
//   /tmp/steps [TYPE [MB]]  # ns of one thread's CPU time per row and 32 values at 1-12 tokens,
//                           # over MB (default 96) of random weights in [576, 1536] matrices
//                           # (SmolLM2's MLP down; COLS=576 for [1536, 576]), so that they
//                           # stream from memory; TYPE is a GGML id (2 Q4_0, 3 Q4_1, 8 Q8_0 ...)
//
// CPU time, not wall time: the figures hold on a machine shared with other work.
#include "tern_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static float frand(void) { return (float)((rnd() >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f; }
static uint16_t half_of(float f) { _Float16 h = (_Float16)f; uint16_t u; memcpy(&u, &h, 2); return u; }

static void fill_weights(uint8_t *w, int wtype, int64_t rows, int64_t cols) {
    const int64_t rb = tern_row_bytes(wtype, cols);
    for (int64_t i = 0; i < rows * rb; i++) w[i] = (uint8_t)rnd();
    const int bb = tern_block_bytes(wtype), bv = tern_block_values(wtype);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t b = 0; b < cols / bv; b++) {
            uint8_t *blk = w + r * rb + b * bb;
            uint16_t d = half_of(0.01f + 0.02f * (frand() + 1)), m = half_of(-0.1f * (frand() + 1));
            switch (wtype) {
            case TERN_Q4_0: case TERN_Q5_0: case TERN_Q8_0: memcpy(blk, &d, 2); break;
            case TERN_Q4_1: case TERN_Q5_1: memcpy(blk, &d, 2); memcpy(blk + 2, &m, 2); break;
            case TERN_Q4_K: case TERN_Q5_K: { uint16_t dm = half_of(0.01f * (frand() + 1)); memcpy(blk, &d, 2); memcpy(blk + 2, &dm, 2); break; }
            case TERN_Q6_K: memcpy(blk + 208, &d, 2); break;
            }
        }
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static const char *name_of(int t) {
    switch (t) { case 2: return "Q4_0"; case 3: return "Q4_1"; case 6: return "Q5_0"; case 7: return "Q5_1"; case 8: return "Q8_0";
    case 12: return "Q4_K"; case 13: return "Q5_K"; case 14: return "Q6_K"; } return "?";
}

// max error relative to sum |w x| for T tokens, odd rows
static double check(int wtype, int64_t rows, int64_t cols, int T, int accumulate) {
    const int64_t rb = tern_row_bytes(wtype, cols);
    uint8_t *w = malloc(rows * rb);
    fill_weights(w, wtype, rows, cols);
    float *wf = malloc(sizeof(float) * rows * cols);
    tern_dequantize_rows(w, wtype, cols, 0, rows, wf);
    float *x = malloc(sizeof(float) * T * cols), *y = malloc(sizeof(float) * T * rows), *y0 = malloc(sizeof(float) * T * rows);
    for (int64_t i = 0; i < T * cols; i++) { x[i] = frand(); if (i % 29 == 0) x[i] *= 64; if (i % 7 == 0) x[i] *= 1e-3f; if ((i % cols) / 32 == 2) x[i] = 0; }
    for (int64_t i = 0; i < T * rows; i++) y[i] = y0[i] = accumulate ? 4 * frand() : NAN;
    tern_matmul(NULL, w, wtype, rows, cols, x, T, y, accumulate);
    double worst = 0;
    for (int t = 0; t < T; t++)
        for (int64_t r = 0; r < rows; r++) {
            double s = accumulate ? y0[t * rows + r] : 0, mag = accumulate ? fabs(y0[t * rows + r]) : 0;
            for (int64_t c = 0; c < cols; c++) { double p = (double)wf[r * cols + c] * x[t * cols + c]; s += p; mag += fabs(p); }
            double e = fabs(y[t * rows + r] - s) / (mag > 0 ? mag : 1);
            if (!(e <= worst)) worst = isnan(e) ? 1e9 : e;
        }
    free(w); free(wf); free(x); free(y); free(y0);
    return worst;
}

int main(int argc, char **argv) {
    int types[] = {TERN_Q4_0, TERN_Q4_1, TERN_Q8_0, TERN_Q5_0, TERN_Q5_1, TERN_Q4_K, TERN_Q5_K, TERN_Q6_K};
    int ntypes = 8;
    if (argc > 1 && strcmp(argv[1], "check") == 0) {
        double worst_all = 0;
        for (int i = 0; i < ntypes; i++) {
            double worst = 0;
            const int64_t bv = tern_block_values(types[i]);
            for (int T = 1; T <= 17; T++)
                for (int acc = 0; acc < 2; acc++)
                    for (int64_t nbk = 1; nbk <= (bv == 32 ? 17 : 3); nbk += (bv == 32 ? 4 : 1)) {
                        double e = check(types[i], 37, nbk * bv, T, acc);
                        if (e > worst) worst = e;
                        if (e > 1e-5) printf("FAIL %s T=%d acc=%d blocks=%lld err %g\n", name_of(types[i]), T, acc, (long long)nbk, e);
                    }
            printf("%s worst err %.3g\n", name_of(types[i]), worst);
            if (worst > worst_all) worst_all = worst;
        }
        return worst_all > 1e-5;
    }
    // timing: SmolLM2-ish shapes, many matrices (~64 MB) to stream from DRAM/L3
    const int64_t cols = getenv("COLS") ? atoll(getenv("COLS")) : 1536, rows = 576 * 1536 / cols;
    int only = argc > 1 ? atoi(argv[1]) : 0;
    for (int i = 0; i < ntypes; i++) {
        int wt = types[i];
        if (only && wt != only) continue;
        const int64_t rb = tern_row_bytes(wt, cols);
        const int64_t mbytes = rows * rb;
        int nm = (int)(((argc > 2 ? atoll(argv[2]) : 96ll) << 20) / mbytes); if (nm < 1) nm = 1;
        uint8_t *w = aligned_alloc(64, (size_t)nm * mbytes);
        for (int m = 0; m < nm; m++) fill_weights(w + m * mbytes, wt, rows, cols);
        float *x = malloc(sizeof(float) * 16 * cols), *y = malloc(sizeof(float) * 16 * rows);
        for (int64_t k = 0; k < 16 * cols; k++) x[k] = frand();
        double base = 0;
        printf("%s ns/row·32vals:", name_of(wt));
        static const int Ts[] = {1, 2, 3, 4, 5, 8, 9, 12};
        for (int ti = 0; ti < 8; ti++) {
            const int T = Ts[ti];
            double best = 1e9;
            for (int rep = 0; rep < 7; rep++) {
                double t0 = now();
                for (int m = 0; m < nm; m++) tern_matmul(NULL, w + m * mbytes, wt, rows, cols, x, T, y, 0);
                double dt = (now() - t0) / ((double)nm * rows * cols / 32) * 1e9;
                if (dt < best) best = dt;
            }
            if (T == 1) base = best;
            printf("  T%d %.2f (%.2fx)", T, best, best / base);
        }
        printf("\n");
        free(w); free(x); free(y);
    }
    return 0;
}
