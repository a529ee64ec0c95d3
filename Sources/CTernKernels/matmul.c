// tern_matmul: Y [n_tokens, rows] = X [n_tokens, cols] · Wᵀ on W's blocks.
//
// Work is split over rows: each task takes a contiguous chunk of rows (a multiple of the
// 4-row tile), long ones first and short ones last (guided self-scheduling), so that uneven
// progress evens out and the threads finish together. Inside a task the tokens go in blocks
// of TOKEN_BLOCK, so the activations of a block (at most 64 x cols floats) stay in L2 while
// the task's rows stream past them; a row tile is read from memory once per token block,
// and from L1 for the token tiles within it.
//
// Decode (one token) is bound by dequantizing W in registers more than by reading it (on a
// Zen 4, SmolLM2's layers take 7.4 ms of CPU per token with the weights in cache and 8.3 ms
// from DRAM), prefill by the FMAs; the SIMD kernels (matmul_avx2.c, matmul_avx512.c) serve
// both with register tiles. One token of Q4_0 / Q4_1 on AVX-512 VNNI takes matmul_vnni.c
// instead, which cuts x into int8 limbs once per call (in a per-thread buffer) and runs
// integer dot products, ~1.4x faster; on AVX2 without AVX-512, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K
// and Q6_K take matmul_avx2_int.c, two int16 limbs with vpmaddwd, 1.5-2.3x faster on Zen 3.
// A few tokens (up to 2 x TILE_FEW_PASS: 10 on AVX2, 16 on AVX-512: a speculative
// verification step, or a few requests decoding together) take the SIMD kernels' few-token
// rows, which decode each weight once in registers for all the tokens: on Zen 3 a 5-token
// Q4_1 step costs 1.8x a one-token one, against 3.3x with the prefill panels. The portable
// kernel below is the reference and the path for types without a SIMD decoder.
// tern_matmul_many runs matrices that share an input in one pool job, each row computed
// exactly as alone.
#include "tern_internal.h"

#include <pthread.h>
#include <stdlib.h>

enum {
    TOKEN_BLOCK = TERN_MM_TOKEN_BLOCK,
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

enum { MAX_PARTS = 4, MAX_PART_TASKS = 64 };

typedef struct {
    tern_mm_args args;
    int first_task;  // this part's first task in the pool run
    int n_tasks;
    int32_t start[MAX_PART_TASKS + 1];  // task i computes rows [start[i], start[i + 1])
} mm_part;

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
    const int64_t r0 = part->start[task - part->first_task], r1 = part->start[task - part->first_task + 1];
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

/// Splits a matrix's rows into tasks, guided self-scheduling: each task takes half of the
/// remaining rows shared by the threads, so the first tasks are long (few hand-outs) and the
/// last ones short (the threads finish together); none below MIN_TASK_MACS, whole tiles: 4
/// rows, or 16 past the few-token rows (AVX2's prefill tile, which a 4-row task would leave
/// three quarters idle). Fills start[0 ... n] and returns n.
static int schedule_rows(const tern_pool *pool, int64_t rows, int64_t cols, int64_t n_tokens, int32_t *start) {
    const int64_t threads = tern_pool_threads(pool);
    const int64_t tile = n_tokens > 10 ? 16 : 4;
    int64_t unit = MIN_TASK_MACS / (cols * n_tokens);
    unit = unit < tile ? tile : (unit + tile - 1) / tile * tile;
    int n = 0;
    int64_t r = 0;
    start[0] = 0;
    while (r < rows) {
        int64_t size = threads == 1 ? rows : ((rows - r) / (2 * threads) + tile - 1) / tile * tile;
        if (size < unit) size = unit;
        if (size > rows - r || n == MAX_PART_TASKS - 1) size = rows - r;
        r += size;
        start[++n] = (int32_t)r;
    }
    return n;
}

/// The calling thread's buffer for prepared activations (64-byte aligned, at least `bytes`),
/// grown as needed and freed when the thread exits; NULL if memory cannot be had.
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

typedef struct {
    size_t bytes;  // capacity
    void *mem;
} scratch_buffer;

static void scratch_free(void *p) {
    scratch_buffer *b = p;
    free(b->mem);
    free(b);
}

static void scratch_key_create(void) { pthread_key_create(&scratch_key, scratch_free); }

static void *thread_scratch(size_t bytes) {
    pthread_once(&scratch_once, scratch_key_create);
    scratch_buffer *b = pthread_getspecific(scratch_key);
    if (b && b->bytes >= bytes) return b->mem;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b || pthread_setspecific(scratch_key, b) != 0) {
            free(b);
            return NULL;
        }
    }
    const size_t size = (bytes + 63) / 64 * 64;
    void *mem = aligned_alloc(64, size);
    if (!mem) return NULL;
    free(b->mem);
    b->bytes = size;
    b->mem = mem;
    return mem;
}

/// A tern_vnni_x in the thread's scratch: the limbs (3 x 128 bytes a group), then scale,
/// sum4 and sum8 (16, 4 and 8 floats a group).
static int vnni_buffer_for(int64_t n_groups, tern_vnni_x *x) {
    uint8_t *mem = thread_scratch((size_t)n_groups * (384 + 4 * 28));
    if (!mem) return 0;
    x->limbs = (int8_t *)mem;
    x->scale = (float *)(mem + (size_t)n_groups * 384);
    x->sum4 = x->scale + (size_t)n_groups * 16;
    x->sum8 = x->sum4 + (size_t)n_groups * 4;
    return 1;
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
    // One token of a type with an integer kernel (VNNI on AVX-512, x16 on AVX2): x is cut
    // into limbs once for every row.
    tern_vnni_x vnni_x;
    tern_x16 x16;
    const tern_vnni_x *xq = NULL;
    const tern_x16 *xi = NULL;
    // Batch-invariant mode: the integer kernels round differently from the f32 rows that
    // the same token takes beside others, so one token takes those rows too.
    const int invariant = tern_pool_batch_invariant(pool);
#if defined(__x86_64__)
    if (invariant) {
        // the f32 rows below
    } else if (n_tokens == 1 && tern_vnni_active() && tern_mm_kernel_vnni(wtype)) {
        if (vnni_buffer_for((cols / 32 + 3) / 4, &vnni_x)) {
            tern_vnni_prepare(x, cols, &vnni_x);
            job.kernel = tern_mm_kernel_vnni(wtype);
            xq = &vnni_x;
        }
    } else if (n_tokens == 1 && tern_active_isa() == TERN_ISA_AVX2 && tern_mm_kernel_x16(wtype)) {
        void *mem = thread_scratch(tern_x16_bytes(cols));
        if (mem) {
            tern_x16_prepare(x, cols, tern_x16_shift(wtype), mem, &x16);
            job.kernel = tern_mm_kernel_x16(wtype);
            xi = &x16;
        }
    }
#endif
    int tasks = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i] <= 0) continue;
        mm_part *part = &job.parts[job.n_parts++];
        part->args = (tern_mm_args){.w = w[i], .row_bytes = (size_t)row_bytes, .rows = rows[i], .cols = cols,
                                    .x = x, .n_tokens = n_tokens, .y = y[i], .accumulate = accumulate, .xq = xq, .xi = xi,
                                    .batch_invariant = invariant};
        part->first_task = tasks;
        part->n_tasks = schedule_rows(pool, rows[i], cols, n_tokens, part->start);
        tasks += part->n_tasks;
    }
    if (tasks > 0) tern_pool_run(pool, mm_task, &job, tasks);
}
