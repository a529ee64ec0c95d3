// Paged KV cache writes and causal attention over it for a ragged batch.
//
// Work items are (chunk of up to 16 consecutive queries of one sequence, kv head): the rows
// of an item are its queries times the query heads that share the kv head (GQA). An item
// walks the key blocks its queries can see through the block table, and each block's K
// and V rows are reused from L1 by all of its rows, so the cache, which is as large as the
// weights at long contexts, is read once per step. Per row an online softmax keeps the
// running max m, the sum of exponentials l and the weighted sum of V rows, so the scores
// of a long context never need to be stored.
//
// Causal and sliding-window masks make each query's visible keys one interval
// [max(0, p - window + 1), p]; within a block only that sub-range is visited.
//
// Attention sinks (gpt-oss: a learned logit per head in the softmax's denominator, with no
// value) are folded in once a row's keys are all seen, so they leave the kernels alone:
// out = acc · e^(m - M) / (l · e^(m - M) + e^(sink - M)), M = max(m, sink).
//
// Soft-capped scores (Gemma 2: s = tanh(s / cap) · cap before the softmax) take the portable
// one-row update, the only one that caps.
//
// With fewer items than threads (decode of one or two sequences: one item per kv head,
// so 3 tasks for 2 threads on SmolLM2), each item's keys are also split into ranges that
// run as separate tasks; each leaves its rows' partial (m, l, acc) in a stack buffer of the
// caller, which merges them (the log-sum-exp rescaling of the online softmax). Ranges are
// whole KEY_STEPs, so from 128 keys on the 3 tasks become 6 or more and both threads finish
// together (3 tasks on 2 threads take as long as 4).
#include "tern_internal.h"

#include <stdlib.h>

enum {
    MAX_CHUNK = 16,       // queries per work item
    MAX_ROWS = 64,        // (query, head) rows per work item
    ACC_FLOATS = 8192,    // accumulator floats per work item: rows * head_dim
    KEY_STEP = 64,        // keys per online-softmax update
    STACK_SEQS = 256,     // sequences whose item offsets fit on the stack
    MAX_SPLITS = 8,       // key ranges per item
    MIN_SPLIT_KEYS = 64,  // keys per range at least: one KEY_STEP
    PARTIAL_FLOATS = 16384,  // the caller's buffer of partial results (64 KiB)
};

void tern_kv_write(const float *k, const float *v, int64_t n_tokens, int64_t kv_dim,
                   const int64_t *slot_mapping, float *k_cache, float *v_cache) {
    for (int64_t t = 0; t < n_tokens; t++) {
        const int64_t slot = slot_mapping[t];
        if (slot < 0) continue;
        memcpy(k_cache + slot * kv_dim, k + t * kv_dim, (size_t)kv_dim * sizeof(float));
        memcpy(v_cache + slot * kv_dim, v + t * kv_dim, (size_t)kv_dim * sizeof(float));
    }
}

/// tern_attn_update_scalar, with the scores soft-capped when softcap > 0.
static void attn_update_capped(const float *q, const float *k, const float *v, int64_t stride, int n,
                               int head_dim, float scale, float softcap, float *m, float *l, float *acc,
                               float *scores) {
    float mx = *m;
    for (int i = 0; i < n; i++) {
        const float *ki = k + i * stride;
        float s[4] = {0, 0, 0, 0};
        int d = 0;
        for (; d + 4 <= head_dim; d += 4)
            for (int u = 0; u < 4; u++) s[u] += q[d + u] * ki[d + u];
        for (; d < head_dim; d++) s[0] += q[d] * ki[d];
        scores[i] = ((s[0] + s[1]) + (s[2] + s[3])) * scale;
        if (softcap > 0.0f) scores[i] = tanhf(scores[i] / softcap) * softcap;
        if (scores[i] > mx) mx = scores[i];
    }
    // With no earlier keys *m is -inf and corr is 0, which clears nothing but zeros.
    const float corr = expf(*m - mx);
    float sum = *l * corr;
    for (int d = 0; d < head_dim; d++) acc[d] *= corr;
    for (int i = 0; i < n; i++) {
        const float p = expf(scores[i] - mx);
        const float *vi = v + i * stride;
        sum += p;
        for (int d = 0; d < head_dim; d++) acc[d] += p * vi[d];
    }
    *l = sum;
    *m = mx;
}

void tern_attn_update_scalar(const float *q, const float *k, const float *v, int64_t stride,
                             int n, int head_dim, float scale, float *m, float *l, float *acc,
                             float *scores) {
    attn_update_capped(q, k, v, stride, n, head_dim, scale, 0.0f, m, l, acc, scores);
}

typedef struct {
    const float *q, *k_cache, *v_cache;
    int block_size, n_heads, n_kv_heads, head_dim;
    int n_seqs;
    const int32_t *query_start, *seq_lens, *block_table;
    int max_blocks;
    float scale;
    int sliding_window;
    float softcap;        // > 0: scores soft-capped (then update is the portable one and
                          // rows and group are NULL)
    const float *sinks;   // [n_heads] or NULL
    float *out;
    int chunk;            // queries per item
    int slice_heads;      // query heads per item (the group, unless rows would not fit)
    int slices;           // items per (chunk, kv head)
    const int32_t *item_start;  // [n_seqs + 1]: first work item of each sequence
    int n_items;
    tern_attn_update update;
    tern_attn_rows rows;  // many rows per key group (prefill); NULL where there is none
    tern_attn_group group;  // a few rows with the same keys (decode); NULL where there is none
    int rows_keys;        // keys per group for `rows`
    int splits;           // key ranges per item (1: no split)
    float *partial;       // splits > 1: per task, rows x (head_dim + 2) floats: acc, m, l
    int partial_stride;   // floats per task in `partial`
    int invariant;        // batch-invariant mode: one row at a time, groups at fixed keys
} attn_job;

/// Sequence owning work item `item`: the last s with item_start[s] <= item.
static int seq_of_item(const attn_job *job, int item) {
    int lo = 0, hi = job->n_seqs - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (job->item_start[mid] <= item) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/// The factor on a row's accumulated values of query head `head`, whose scores have the largest
/// value m and the sum of exponentials l relative to it: 1 / l, or with a sink
/// e^(m - M) / (l · e^(m - M) + e^(sink - M)), M = max(m, sink). 0 for a row that saw no key.
static float normalizer(const attn_job *job, int head, float m, float l) {
    if (!job->sinks) return l > 0.0f ? 1.0f / l : 0.0f;
    if (m == -INFINITY) return 0.0f;
    const float sink = job->sinks[head];
    const float top = m > sink ? m : sink;
    const float corr = expf(m - top);
    return corr / (l * corr + expf(sink - top));
}

static void attn_task(void *ctx, int split_task, int n_tasks) {
    (void)n_tasks;
    const attn_job *job = ctx;
    const int task = split_task / job->splits, split = split_task % job->splits;
    const int per_item = job->n_kv_heads * job->slices;
    // Items in reverse: later chunks of a sequence see more keys, so they start first.
    const int item = job->n_items - 1 - task / per_item;
    const int kvh = task % per_item / job->slices;
    const int group = job->n_heads / job->n_kv_heads;
    const int h0 = kvh * group + task % job->slices * job->slice_heads;
    const int nh = h0 + job->slice_heads <= (kvh + 1) * group ? job->slice_heads : (kvh + 1) * group - h0;
    const int s = seq_of_item(job, item);
    const int hd = job->head_dim, bs = job->block_size;
    const int64_t kv_stride = (int64_t)job->n_kv_heads * hd;

    const int q_begin = job->query_start[s], q_len = job->query_start[s + 1] - q_begin;
    const int r0 = q_begin + (item - job->item_start[s]) * job->chunk;
    const int r1 = r0 + job->chunk < q_begin + q_len ? r0 + job->chunk : q_begin + q_len;
    const int first_pos = job->seq_lens[s] - q_len + (r0 - q_begin);
    const int nq = r1 - r0;

    // Row j * nh + i: query r0 + j, head h0 + i.
    float m[MAX_ROWS], l[MAX_ROWS], scores[TERN_ATTN_GROUP_MAX * KEY_STEP];
    float acc[ACC_FLOATS];
    int lo[MAX_CHUNK];
    for (int j = 0; j < nq; j++) {
        const int p = first_pos + j;
        lo[j] = job->sliding_window > 0 && p - job->sliding_window + 1 > 0
                    ? p - job->sliding_window + 1 : 0;
    }
    for (int row = 0; row < nq * nh; row++) {
        m[row] = -INFINITY;
        l[row] = 0.0f;
    }
    memset(acc, 0, (size_t)nq * nh * hd * sizeof(float));

    // Keys [key_begin, key_end) are visible to some row: the window start of the first
    // query up to the last query. Slots outside are never read (they may hold anything).
    // A split takes its share of them, in whole KEY_STEPs.
    int key_begin = lo[0], key_end = first_pos + nq;
    if (job->splits > 1) {
        const int steps = (key_end - key_begin + KEY_STEP - 1) / KEY_STEP;
        const int b = key_begin + steps * split / job->splits * KEY_STEP;
        const int e = key_begin + steps * (split + 1) / job->splits * KEY_STEP;
        key_end = e < key_end ? e : key_end;
        key_begin = b;
    }
    const int use_rows = job->rows && nq * nh >= TERN_ATTN_ROWS_MIN && hd <= TERN_ATTN_ROWS_MAX_DIM;
    const int step = use_rows ? job->rows_keys : KEY_STEP;
    float scratch[(TERN_ATTN_ROWS_MAX_DIM + 4) * 16] __attribute__((aligned(64)));
    tern_attn_row list[MAX_ROWS];
    const int32_t *table = job->block_table + (int64_t)s * job->max_blocks;
    for (int bi = key_begin / bs; bi * bs < key_end; bi++) {
        const int64_t first_slot = (int64_t)table[bi] * bs;
        const float *kb = job->k_cache + first_slot * kv_stride + (int64_t)kvh * hd;
        const float *vb = job->v_cache + first_slot * kv_stride + (int64_t)kvh * hd;
        const int block_end = (bi + 1) * bs < key_end ? (bi + 1) * bs : key_end;
        int first_g0 = bi * bs > key_begin ? bi * bs : key_begin;
        // Batch-invariant mode: groups start at fixed offsets in the block, not at the first
        // visible key of the item's first query (which depends on the chunk), so that each row
        // visits the same key ranges whatever queries share its item.
        if (job->invariant) first_g0 = bi * bs + (first_g0 - bi * bs) / step * step;
        for (int g0 = first_g0; g0 < block_end; g0 += step) {
            const int g1 = g0 + step < block_end ? g0 + step : block_end;
            // Each row sees [max(g0, lo), min(g1, position + 1)) of this key group.
            int n_list = 0;
            for (int j = 0; j < nq; j++) {
                const int a = g0 > lo[j] ? g0 : lo[j];
                const int e = g1 < first_pos + j + 1 ? g1 : first_pos + j + 1;
                if (a >= e) continue;
                for (int i = 0; i < nh; i++) {
                    const int row = j * nh + i;
                    list[n_list++] = (tern_attn_row){
                        .q = job->q + ((int64_t)(r0 + j) * job->n_heads + h0 + i) * hd,
                        .acc = acc + (int64_t)row * hd, .m = &m[row], .l = &l[row],
                        .lo = a - g0, .hi = e - g0};
                }
            }
            const int64_t off = (int64_t)(g0 - bi * bs) * kv_stride;
            if (use_rows && n_list >= TERN_ATTN_ROWS_MIN) {
                job->rows(list, n_list, kb + off, vb + off, kv_stride, g1 - g0, hd, job->scale, scratch);
                continue;
            }
            for (int r = 0; r < n_list;) {
                // Consecutive rows that see the same keys (the heads of one query) go together.
                int g = 1;
                while (job->group && g < TERN_ATTN_GROUP_MAX && r + g < n_list && list[r + g].lo == list[r].lo &&
                       list[r + g].hi == list[r].hi)
                    g++;
                const int64_t row_off = off + (int64_t)list[r].lo * kv_stride;
                if (g > 1)
                    job->group(list + r, g, kb + row_off, vb + row_off, kv_stride, list[r].hi - list[r].lo, hd,
                               job->scale, scores);
                else if (job->softcap > 0.0f)
                    attn_update_capped(list[r].q, kb + row_off, vb + row_off, kv_stride, list[r].hi - list[r].lo,
                                       hd, job->scale, job->softcap, list[r].m, list[r].l, list[r].acc, scores);
                else
                    job->update(list[r].q, kb + row_off, vb + row_off, kv_stride, list[r].hi - list[r].lo,
                                hd, job->scale, list[r].m, list[r].l, list[r].acc, scores);
                r += g;
            }
        }
    }

    if (job->splits > 1) {
        float *part = job->partial + (int64_t)split_task * job->partial_stride;
        for (int row = 0; row < nq * nh; row++) {
            float *p = part + (int64_t)row * (hd + 2);
            memcpy(p, acc + (int64_t)row * hd, (size_t)hd * sizeof(float));
            p[hd] = m[row];
            p[hd + 1] = l[row];
        }
        return;
    }
    for (int j = 0; j < nq; j++) {
        for (int i = 0; i < nh; i++) {
            const int row = j * nh + i;
            float *o = job->out + ((int64_t)(r0 + j) * job->n_heads + h0 + i) * hd;
            const float inv = normalizer(job, h0 + i, m[row], l[row]);
            for (int d = 0; d < hd; d++) o[d] = acc[(int64_t)row * hd + d] * inv;
        }
    }
}

/// Queries in the largest item (decode: 1).
static int longest_item(const attn_job *job) {
    int most = 0;
    for (int s = 0; s < job->n_seqs; s++) {
        const int q_len = job->query_start[s + 1] - job->query_start[s];
        if (q_len > most) most = q_len;
    }
    return most < job->chunk ? most : job->chunk;
}

/// Key ranges per item: enough tasks for every thread when the items alone are too few, each
/// range at least MIN_SPLIT_KEYS long, all partial results within PARTIAL_FLOATS.
static int split_count(const attn_job *job, int threads, int tasks) {
    if (threads <= 1 || tasks >= 2 * threads) return 1;
    int longest = 0;
    for (int s = 0; s < job->n_seqs; s++)
        if (job->seq_lens[s] > longest) longest = job->seq_lens[s];
    int splits = (4 * threads + tasks - 1) / tasks;
    if (splits > MAX_SPLITS) splits = MAX_SPLITS;
    if (splits > longest / MIN_SPLIT_KEYS) splits = longest / MIN_SPLIT_KEYS;
    const int64_t stride = (int64_t)longest_item(job) * job->slice_heads * (job->head_dim + 2);
    while (splits > 1 && (int64_t)tasks * splits * stride > PARTIAL_FLOATS) splits--;
    return splits > 1 ? splits : 1;
}

/// Combines the splits of every item: out = Σ acc_s e^(m_s - M) / Σ l_s e^(m_s - M), M the
/// largest m_s (a split that saw no key has m = -inf and weighs 0).
static void merge_splits(const attn_job *job, int tasks) {
    const int hd = job->head_dim, group = job->n_heads / job->n_kv_heads;
    const int per_item = job->n_kv_heads * job->slices;
    for (int task = 0; task < tasks; task++) {
        const int item = job->n_items - 1 - task / per_item;
        const int kvh = task % per_item / job->slices;
        const int h0 = kvh * group + task % job->slices * job->slice_heads;
        const int nh = h0 + job->slice_heads <= (kvh + 1) * group ? job->slice_heads : (kvh + 1) * group - h0;
        const int s = seq_of_item(job, item);
        const int q_begin = job->query_start[s], q_len = job->query_start[s + 1] - q_begin;
        const int r0 = q_begin + (item - job->item_start[s]) * job->chunk;
        const int r1 = r0 + job->chunk < q_begin + q_len ? r0 + job->chunk : q_begin + q_len;
        for (int j = 0; j < r1 - r0; j++) {
            for (int i = 0; i < nh; i++) {
                const int64_t row_off = (int64_t)(j * nh + i) * (hd + 2);
                float mx = -INFINITY;
                for (int sp = 0; sp < job->splits; sp++) {
                    const float m = job->partial[(int64_t)(task * job->splits + sp) * job->partial_stride + row_off + hd];
                    if (m > mx) mx = m;
                }
                float *o = job->out + ((int64_t)(r0 + j) * job->n_heads + h0 + i) * hd;
                for (int d = 0; d < hd; d++) o[d] = 0.0f;
                float total = 0.0f;
                for (int sp = 0; sp < job->splits; sp++) {
                    const float *p = job->partial + (int64_t)(task * job->splits + sp) * job->partial_stride + row_off;
                    if (p[hd] == -INFINITY) continue;
                    const float w = expf(p[hd] - mx);
                    total += p[hd + 1] * w;
                    for (int d = 0; d < hd; d++) o[d] += p[d] * w;
                }
                const float inv = normalizer(job, h0 + i, mx, total);
                for (int d = 0; d < hd; d++) o[d] *= inv;
            }
        }
    }
}

static void choose_kernels(attn_job *job) {
    job->update = tern_attn_update_scalar;
    job->rows = NULL;
    job->group = NULL;
    job->rows_keys = 0;
    if (job->softcap > 0.0f) return;
#if defined(__x86_64__)
    switch (tern_active_isa()) {
    case TERN_ISA_AVX512:
        job->update = tern_attn_update_avx512;
        job->rows = tern_attn_rows_avx512;
        job->rows_keys = 16;
        if (job->head_dim % 16 == 0) job->group = tern_attn_group_avx512;
        break;
    case TERN_ISA_AVX2:
        job->update = tern_attn_update_avx2;
        if (job->head_dim % 8 == 0) {
            job->rows = tern_attn_rows_avx2;
            job->rows_keys = 8;
        }
        break;
    case TERN_ISA_SCALAR:
        break;
    }
#endif
}

void tern_paged_attention(tern_pool *pool, const float *q, const float *k_cache,
                          const float *v_cache, int block_size, int n_heads, int n_kv_heads,
                          int head_dim, int n_seqs, const int32_t *query_start,
                          const int32_t *seq_lens, const int32_t *block_table, int max_blocks,
                          float scale, int sliding_window, float softcap, const float *sinks,
                          float *out) {
    if (n_seqs <= 0 || n_heads <= 0 || n_kv_heads <= 0 || n_heads % n_kv_heads != 0 ||
        head_dim <= 0 || head_dim > ACC_FLOATS / 2 || block_size <= 0)
        return;
    // Rows per item: the whole group if it fits, then as many queries as fit.
    const int group = n_heads / n_kv_heads;
    int slice_heads = group;
    if (slice_heads > MAX_ROWS) slice_heads = MAX_ROWS;
    if (slice_heads > ACC_FLOATS / head_dim) slice_heads = ACC_FLOATS / head_dim;
    int chunk = ACC_FLOATS / (slice_heads * head_dim);
    if (chunk > MAX_ROWS / slice_heads) chunk = MAX_ROWS / slice_heads;
    if (chunk > MAX_CHUNK) chunk = MAX_CHUNK;
    const int slices = (group + slice_heads - 1) / slice_heads;

    int32_t stack_starts[STACK_SEQS + 1];
    int32_t *starts = n_seqs <= STACK_SEQS ? stack_starts : malloc(sizeof(int32_t) * (n_seqs + 1));
    if (!starts) return;
    starts[0] = 0;
    for (int s = 0; s < n_seqs; s++) {
        const int q_len = query_start[s + 1] - query_start[s];
        starts[s + 1] = starts[s] + (q_len > 0 ? (q_len + chunk - 1) / chunk : 0);
    }
    attn_job job = {
        .q = q, .k_cache = k_cache, .v_cache = v_cache, .block_size = block_size,
        .n_heads = n_heads, .n_kv_heads = n_kv_heads, .head_dim = head_dim, .n_seqs = n_seqs,
        .query_start = query_start, .seq_lens = seq_lens, .block_table = block_table,
        .max_blocks = max_blocks, .scale = scale, .sliding_window = sliding_window,
        .softcap = softcap > 0.0f ? softcap : 0.0f, .sinks = sinks, .out = out,
        .chunk = chunk, .slice_heads = slice_heads, .slices = slices, .item_start = starts,
        .n_items = starts[n_seqs],
    };
    choose_kernels(&job);
    // Batch-invariant mode: the one-row update for every row (the rows and group kernels
    // round differently), and no key splits (their count follows the batch's task count).
    job.invariant = tern_pool_batch_invariant(pool);
    if (job.invariant) {
        job.rows = NULL;
        job.group = NULL;
    }
    const int tasks = job.n_items * n_kv_heads * slices;
    float partial[PARTIAL_FLOATS];
    job.splits = job.invariant ? 1 : split_count(&job, tern_pool_threads(pool), tasks);
    job.partial = partial;
    job.partial_stride = longest_item(&job) * job.slice_heads * (head_dim + 2);
    tern_pool_run(pool, attn_task, &job, tasks * job.splits);
    if (job.splits > 1) merge_splits(&job, tasks);
    if (starts != stack_starts) free(starts);
}
