// A fixed pool of workers for data-parallel ops.
//
// A job is published through one 64-bit word, `work` = [job id:24][n_tasks:20][next:20].
// Threads claim task `next` with a compare-and-swap on the whole word, so a thread that
// still holds an old job's view can never claim a task of the next job (its CAS fails on
// the job id). The job's fn/ctx are written before the word is released and are read
// before a claim: a successful claim proves they belong to the claimed job (the job cannot
// finish, and so cannot be replaced, before that task reports done).
//
// Between jobs a worker spins on the word for SPIN_NS (decode runs ~10 small ops back to
// back, each far shorter than a futex wake-up), then sleeps on a condition variable.
#include "tern_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum {
    TASK_BITS = 20,
    MAX_TASKS = (1 << TASK_BITS) - 1,
    SPIN_NS = 100000,
};

#define WORD_JOB(w) ((uint32_t)((w) >> 40))
#define WORD_COUNT(w) ((uint32_t)(((w) >> TASK_BITS) & MAX_TASKS))
#define WORD_NEXT(w) ((uint32_t)((w) & MAX_TASKS))

struct tern_pool {
    int n_threads;  // workers + the calling thread
    pthread_t *workers;
    _Atomic uint64_t work;
    _Atomic(tern_task_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int base;   // first task index of this job (jobs of > MAX_TASKS are split)
    _Atomic int total;  // n_tasks as the caller passed it
    _Atomic int done;   // tasks of the current job that have returned
    _Atomic int stop;
    _Atomic int sleepers;
    int batch_invariant;  // read by the kernels, set between jobs
    pthread_mutex_t mutex;
    pthread_cond_t wake;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/// Claims and runs tasks of `job` until none is left or the job has changed.
static void run_tasks(tern_pool *pool, uint32_t job) {
    for (;;) {
        uint64_t w = atomic_load_explicit(&pool->work, memory_order_acquire);
        if (WORD_JOB(w) != job || WORD_NEXT(w) >= WORD_COUNT(w)) return;
        tern_task_fn fn = atomic_load_explicit(&pool->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&pool->ctx, memory_order_relaxed);
        const int base = atomic_load_explicit(&pool->base, memory_order_relaxed);
        const int total = atomic_load_explicit(&pool->total, memory_order_relaxed);
        if (!atomic_compare_exchange_weak_explicit(&pool->work, &w, w + 1,
                                                   memory_order_acq_rel, memory_order_acquire))
            continue;
        fn(ctx, base + (int)WORD_NEXT(w), total);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
    }
}

/// Returns once the job id differs from `seen` (or stop is set): spins, then sleeps.
static void wait_for_job(tern_pool *pool, uint32_t seen) {
    uint64_t start = 0;
    for (unsigned spins = 0;; spins++) {
        if (WORD_JOB(atomic_load_explicit(&pool->work, memory_order_acquire)) != seen ||
            atomic_load_explicit(&pool->stop, memory_order_acquire))
            return;
        CPU_RELAX();
        if ((spins & 63) == 0) {
            const uint64_t t = now_ns();
            if (start == 0) start = t;
            else if (t - start > SPIN_NS) break;
        }
    }
    pthread_mutex_lock(&pool->mutex);
    // Dekker handshake with tern_pool_run: either the publisher sees sleepers > 0 and
    // broadcasts under the mutex, or this load sees the new job (both sequentially consistent).
    atomic_fetch_add(&pool->sleepers, 1);
    while (WORD_JOB(atomic_load(&pool->work)) == seen && !atomic_load(&pool->stop))
        pthread_cond_wait(&pool->wake, &pool->mutex);
    atomic_fetch_sub(&pool->sleepers, 1);
    pthread_mutex_unlock(&pool->mutex);
}

static void *worker_main(void *arg) {
    tern_pool *pool = arg;
    uint32_t seen = 0;
    for (;;) {
        wait_for_job(pool, seen);
        if (atomic_load_explicit(&pool->stop, memory_order_acquire)) return NULL;
        seen = WORD_JOB(atomic_load_explicit(&pool->work, memory_order_acquire));
        run_tasks(pool, seen);
    }
}

tern_pool *tern_pool_create(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    tern_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = n_threads;
    atomic_init(&pool->work, 0);
    atomic_init(&pool->fn, NULL);
    atomic_init(&pool->ctx, NULL);
    atomic_init(&pool->base, 0);
    atomic_init(&pool->total, 0);
    atomic_init(&pool->done, 0);
    atomic_init(&pool->stop, 0);
    atomic_init(&pool->sleepers, 0);
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    if (n_threads > 1) {
        pool->workers = calloc((size_t)n_threads - 1, sizeof(pthread_t));
        if (!pool->workers) {
            pool->n_threads = 1;
            tern_pool_destroy(pool);
            return NULL;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            if (pthread_create(&pool->workers[i], NULL, worker_main, pool) != 0) {
                pool->n_threads = i + 1;  // destroy joins only the started workers
                tern_pool_destroy(pool);
                return NULL;
            }
        }
    }
    return pool;
}

void tern_pool_destroy(tern_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stop, 1);
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 0; i < pool->n_threads - 1; i++) pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->workers);
    free(pool);
}

int tern_pool_threads(const tern_pool *pool) { return pool ? pool->n_threads : 1; }

void tern_pool_set_batch_invariant(tern_pool *pool, int on) {
    if (pool) pool->batch_invariant = on != 0;
}

int tern_pool_batch_invariant(const tern_pool *pool) { return pool ? pool->batch_invariant : 0; }

/// Publishes tasks [base, base + count) of fn and takes part until all have returned.
static void run_job(tern_pool *pool, tern_task_fn fn, void *ctx, int base, int count, int total) {
    const uint64_t old = atomic_load_explicit(&pool->work, memory_order_relaxed);
    const uint32_t job = (WORD_JOB(old) + 1) & 0xffffff;
    atomic_store_explicit(&pool->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&pool->base, base, memory_order_relaxed);
    atomic_store_explicit(&pool->total, total, memory_order_relaxed);
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    atomic_store(&pool->work, ((uint64_t)job << 40) | ((uint64_t)count << TASK_BITS));
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
    }
    run_tasks(pool, job);
    // The remaining tasks are running on workers; a preempted worker is waited for
    // with yields rather than a hot spin.
    for (unsigned spins = 0; atomic_load_explicit(&pool->done, memory_order_acquire) < count;
         spins++) {
        if (spins < 4096) CPU_RELAX();
        else sched_yield();
    }
}

void tern_pool_run(tern_pool *pool, tern_task_fn fn, void *ctx, int n_tasks) {
    if (n_tasks <= 0) return;
    if (!pool || pool->n_threads == 1 || n_tasks == 1) {
        for (int i = 0; i < n_tasks; i++) fn(ctx, i, n_tasks);
        return;
    }
    for (int base = 0; base < n_tasks; base += MAX_TASKS) {
        const int count = n_tasks - base < MAX_TASKS ? n_tasks - base : MAX_TASKS;
        run_job(pool, fn, ctx, base, count, n_tasks);
    }
}
