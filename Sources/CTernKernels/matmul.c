// tern_matmul: Y [n_tokens, rows] = X [n_tokens, cols] · Wᵀ on W's blocks.
//
// Work is split over rows: each task takes a contiguous chunk of rows (a multiple of the
// 4-row tile), enough tasks per thread that uneven progress evens out. Inside a task the
// tokens go in blocks of TOKEN_BLOCK, so the activations of a block (at most
// 64 x cols floats) stay in L2 while the task's rows stream past them; a row tile is read
// from memory once per token block, and from L1 for the token tiles within it.
//
// Decode (one token) is bound by dequantizing W in registers more than by reading it (on a
// Zen 4, SmolLM2's layers take 7.4 ms of CPU per token with the weights in cache and 8.3 ms
// from DRAM), prefill by the FMAs; the SIMD kernels (matmul_avx2.c, matmul_avx512.c) serve
// both with register tiles. The portable kernel below is the reference and the path for
// types without a SIMD decoder. tern_matmul_many runs matrices that share an input in one
// pool job, each row computed exactly as alone.
#include "tern_internal.h"

enum {
    TOKEN_BLOCK = TERN_MM_TOKEN_BLOCK,
    TASKS_PER_THREAD = 8,
    // A task below this many multiply-adds costs more to hand out than to run.
    MIN_TASK_MACS = 16384,
    PIECE = 256,  // values decoded at once by the portable kernel
};

/// Dot product with eight partial sums (accuracy, and the compiler vectorizes it).
static float dot_f32(const float *a, const float *b, int n) {
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
    for (; i < n; i++) s[i % 8] += a[i] * b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/// Decodes values [c0, c0 + n) of a row (c0 and n multiples of the block size, or a tail
/// of a plain type) into out.
static void decode_piece(const uint8_t *row, int wtype, int64_t c0, int n, float *out) {
    const tern_block_decoder decode = tern_block_decoder_for(wtype);
    const int bv = tern_block_values(wtype), bb = tern_block_bytes(wtype);
    for (int i = 0; i < n; i += bv) decode(row + (c0 + i) / bv * bb, out + i);
}

/// Portable kernel: each piece of a row is decoded once and dotted with every token.
static void mm_scalar(const tern_mm_args *a, int64_t r0, int64_t r1, int64_t t0, int64_t t1,
                      int wtype) {
    float buf[PIECE];
    float acc[TOKEN_BLOCK];
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = a->w + (size_t)r * a->row_bytes;
        for (int64_t t = t0; t < t1; t++) acc[t - t0] = 0.0f;
        for (int64_t c0 = 0; c0 < a->cols; c0 += PIECE) {
            const int n = a->cols - c0 < PIECE ? (int)(a->cols - c0) : PIECE;
            decode_piece(row, wtype, c0, n, buf);
            for (int64_t t = t0; t < t1; t++) acc[t - t0] += dot_f32(buf, a->x + t * a->cols + c0, n);
        }
        for (int64_t t = t0; t < t1; t++) {
            float *y = a->y + t * a->rows + r;
            *y = a->accumulate ? *y + acc[t - t0] : acc[t - t0];
        }
    }
}

typedef struct {
    tern_mm_args args;
    int64_t rows_per_task;
    int first_task;  // this part's first task in the pool run
} mm_part;

enum { MAX_PARTS = 4 };

typedef struct {
    mm_part parts[MAX_PARTS];
    int n_parts;
    tern_mm_kernel kernel;  // NULL: the portable kernel
    int wtype;
} mm_job;

static void mm_task(void *ctx, int task, int n_tasks) {
    (void)n_tasks;
    const mm_job *job = ctx;
    int p = job->n_parts - 1;
    while (job->parts[p].first_task > task) p--;
    const mm_part *part = &job->parts[p];
    const tern_mm_args *a = &part->args;
    const int64_t r0 = (task - part->first_task) * part->rows_per_task;
    const int64_t r1 = r0 + part->rows_per_task < a->rows ? r0 + part->rows_per_task : a->rows;
    for (int64_t t0 = 0; t0 < a->n_tokens; t0 += TOKEN_BLOCK) {
        const int64_t t1 = t0 + TOKEN_BLOCK < a->n_tokens ? t0 + TOKEN_BLOCK : a->n_tokens;
        if (job->kernel) job->kernel(a, r0, r1, t0, t1);
        else mm_scalar(a, r0, r1, t0, t1, job->wtype);
    }
}

static tern_mm_kernel kernel_for(int wtype) {
#if defined(__x86_64__)
    switch (tern_active_isa()) {
    case TERN_ISA_AVX512: return tern_mm_kernel_avx512(wtype);
    case TERN_ISA_AVX2: return tern_mm_kernel_avx2(wtype);
    case TERN_ISA_SCALAR: return NULL;
    }
#endif
    (void)wtype;
    return NULL;
}

/// Rows per task of one matrix: enough tasks per thread that uneven progress evens out,
/// none below MIN_TASK_MACS, whole 4-row tiles.
static int64_t rows_per_task(const tern_pool *pool, int64_t rows, int64_t cols, int64_t n_tokens) {
    const int64_t threads = tern_pool_threads(pool);
    int64_t tasks = threads == 1 ? 1 : threads * TASKS_PER_THREAD;
    const int64_t by_work = rows * cols * n_tokens / MIN_TASK_MACS;
    if (tasks > by_work) tasks = by_work > 0 ? by_work : 1;
    if (tasks > rows / 4) tasks = rows / 4 > 0 ? rows / 4 : 1;
    const int64_t per = (rows + tasks - 1) / tasks;
    return (per + 3) / 4 * 4;
}

void tern_matmul(tern_pool *pool, const void *w, int wtype, int64_t rows, int64_t cols,
                 const float *x, int64_t n_tokens, float *y, int accumulate) {
    tern_matmul_many(pool, 1, &w, &rows, wtype, cols, x, n_tokens, &y, accumulate);
}

void tern_matmul_many(tern_pool *pool, int n, const void *const *w, const int64_t *rows,
                      int wtype, int64_t cols, const float *x, int64_t n_tokens, float *const *y,
                      int accumulate) {
    const int64_t row_bytes = tern_row_bytes(wtype, cols);
    if (row_bytes == 0 || n_tokens <= 0 || n <= 0) return;
    if (n > MAX_PARTS) {
        tern_matmul_many(pool, MAX_PARTS, w, rows, wtype, cols, x, n_tokens, y, accumulate);
        tern_matmul_many(pool, n - MAX_PARTS, w + MAX_PARTS, rows + MAX_PARTS, wtype, cols, x,
                         n_tokens, y + MAX_PARTS, accumulate);
        return;
    }
    mm_job job = {.n_parts = 0, .kernel = kernel_for(wtype), .wtype = wtype};
    int tasks = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i] <= 0) continue;
        mm_part *part = &job.parts[job.n_parts++];
        *part = (mm_part){
            .args = {.w = w[i], .row_bytes = (size_t)row_bytes, .rows = rows[i], .cols = cols,
                     .x = x, .n_tokens = n_tokens, .y = y[i], .accumulate = accumulate},
            .rows_per_task = rows_per_task(pool, rows[i], cols, n_tokens),
            .first_task = tasks,
        };
        tasks += (int)((rows[i] + part->rows_per_task - 1) / part->rows_per_task);
    }
    if (tasks > 0) tern_pool_run(pool, mm_task, &job, tasks);
}
