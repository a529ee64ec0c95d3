extension KernelSource {
    /// Paged attention over a ragged batch, split along the keys (the decode kernel).
    ///
    /// Query token t of sequence s sits at position seq_lens[s] - q_len(s) + (t - query_start[s])
    /// and attends causally to the keys [0, position] (the last `window` of them when a sliding
    /// window is set) found through the block table. Each (token, KV head) range of keys is cut
    /// into at most `partitions` pieces of at least `min_keys` keys, so that a short batch
    /// (decode) still fills the GPU; pieces past the keys are empty. A piece leaves its max, sum
    /// of exponentials and weighted values; the last piece of a (token, KV head) to finish merges
    /// them (a counter per pair), and with one partition the kernel writes the output directly. The partition count is a launch constant and the ranges
    /// are computed on the device, so one launch shape (a captured graph) serves every length.
    static let attention = #"""
#define TERN_DECODE_KEYS 64
#define TERN_MAX_GROUP 8

// Called by every block of a (token, KV head) after its piece is written: the last of the
// `partitions` blocks to arrive merges all pieces into out [T, heads * head_dim] bf16 and resets
// the counter for the next launch (so the merge needs no kernel of its own). `weights` is
// shared scratch of group * partitions floats (partitions <= 64); the merge stages every
// piece's weight there first, so that the value loads that follow are all independent.
__device__ void attention_merge_if_last(const float *partial_out, const float *partial_max, const float *partial_sum,
                                        int *counters, bf16_t *out, int counter, long long head_index, int group,
                                        int D, int p, int partitions, float *weights) {
    __shared__ int is_last;
    __shared__ float totals[8];
    __threadfence();  // this block's pieces are visible before it is counted
    __syncthreads();
    if (threadIdx.x == 0) is_last = atomicAdd(counters + counter, 1) == partitions - 1;
    __syncthreads();
    if (!is_last) return;
    __threadfence();
    for (int i = threadIdx.x; i < group * partitions; i += blockDim.x) weights[i] = __ldcg(partial_max + head_index * partitions + i);
    __syncthreads();
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    for (int g = warp; g < group; g += blockDim.x >> 5) {
        float global_max = -INFINITY;
        for (int j = lane; j < partitions; j += 32) global_max = fmaxf(global_max, weights[g * partitions + j]);
        global_max = warp_max(global_max);
        float total = 0.0f;
        for (int j = lane; j < partitions; j += 32) {
            const float m = weights[g * partitions + j];
            const float w = m == -INFINITY ? 0.0f : __expf(m - global_max);
            total += w * __ldcg(partial_sum + (head_index + g) * partitions + j);
            weights[g * partitions + j] = w;
        }
        total = warp_sum(total);
        if (lane == 0) totals[g] = total;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < group * D; i += blockDim.x) {
        const int g = i / D, d = i % D;
        const float *values = partial_out + (head_index + g) * partitions * D + d;
        const float *w = weights + g * partitions;
        float value = 0.0f;
        #pragma unroll 8
        for (int j = 0; j < partitions; ++j) value += w[j] * __ldcg(values + (long long)j * D);
        out[(head_index + g) * D + d] = float_to_bf16(totals[g] > 0.0f ? value / totals[g] : 0.0f);
    }
    if (threadIdx.x == 0) counters[counter] = 0;
}

// dot[g] += the 8 dims of a K chunk against the same dims of query head g (query points at
// head 0's dims; heads are D floats apart), for the group's heads.
template <int MAXG>
__device__ __forceinline__ void score_chunk(uint4 packed, const float *query, int D, int group, float *dot) {
    float kf[8];
    unpack_bf16x8(packed, kf);
    #pragma unroll
    for (int g = 0; g < MAXG; ++g) {
        if (g < group) {
            const float *qg = query + g * D;
            float sum = 0.0f;
            #pragma unroll
            for (int i = 0; i < 8; ++i) sum += qg[i] * kf[i];
            dot[g] += sum;
        }
    }
}

// One block per (query token, KV head, piece) with the KV head's whole group of query heads
// (GQA), so each K/V row is read from memory once. Per tile of 64 keys: four lanes score one
// key (16-byte loads, interleaved chunks) against every head of the group, 32 keys at a time;
// warp w turns head w (and w + 4) into probabilities with the running max; then each thread
// accumulates one 8-dim chunk of V over a slice of the keys (16-byte loads, a row read by
// head_dim / 8 consecutive threads), and the slices are summed through shared memory at the end.
// D: head_dim when known at compile time (every load of a tile is then issued before its
// first use), 0 for any head_dim read at run time. MAXG: the largest group the registers hold.
// grid (T, kv_heads, partitions), block 128, shared attention_partial_shared(group, head_dim).
// group <= MAXG <= 8, partitions <= 64; head_dim a multiple of 8, at most 256 (so 128 / (head_dim / 8) slices >= 4).
// partial_out [T, heads, partitions, head_dim], partial_max/partial_sum [T, heads, partitions];
// out [T, heads * head_dim] bf16 when partitions == 1.
template <int D_FIXED, int MAXG>
__device__ __forceinline__ void attention_partial(
        const bf16_t *q, const bf16_t *k_cache, const bf16_t *v_cache,
        const int *query_start, const int *seq_lens, const int *block_table,
        int batch, int max_blocks, int block_size, int heads, int kv_heads, int head_dim,
        float scale, int window, int min_keys, float *partial_out, float *partial_max, float *partial_sum,
        int *counters, bf16_t *out) {
    extern __shared__ float partial_shared[];
    float *shared = partial_shared;
    const int D = D_FIXED > 0 ? D_FIXED : head_dim;
    const int group = heads / kv_heads, chunks = D / 8;
    const int slices = 128 / chunks;
    // Per thread: K chunks of its two keys (a quad takes a key), V rows of its slice.
    constexpr int K_LOADS = D_FIXED > 0 ? D_FIXED / 32 : 1;
    constexpr int V_LOADS = D_FIXED > 0 ? TERN_DECODE_KEYS / (128 / (D_FIXED / 8)) : 1;
    float *query = shared;                                 // [group][D]
    float *scores = query + group * D;                     // [group][KEYS]
    float *reduce = scores + group * TERN_DECODE_KEYS;     // [slices][group][D]
    float *stats = reduce + slices * group * D;            // max [8], sum [8], correction [8]
    long long *rows = (long long *)(stats + 24);           // [KEYS]
    const int t = blockIdx.x, kv_head = blockIdx.y, p = blockIdx.z, partitions = gridDim.z;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

    int lo = 0, hi = batch - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (query_start[mid] <= t) lo = mid; else hi = mid - 1;
    }
    const int s = lo;
    const int q_len = query_start[s + 1] - query_start[s];
    const int position = seq_lens[s] - q_len + (t - query_start[s]);
    const int first_key = window > 0 ? max(0, position - window + 1) : 0;
    const int keys = position - first_key + 1;
    const int per_partition = max(min_keys, (keys + partitions - 1) / partitions);
    const int begin = first_key + p * per_partition;
    const int end = min(begin + per_partition, position + 1);
    const int *table = block_table + (long long)s * max_blocks;
    const long long head_index = (long long)t * heads + kv_head * group;

    if (begin >= end) {
        // An empty piece (a short sequence in a launch sized for long ones).
        if (tid < group) {
            partial_max[(head_index + tid) * partitions + p] = -INFINITY;
            partial_sum[(head_index + tid) * partitions + p] = 0.0f;
        }
        attention_merge_if_last(partial_out, partial_max, partial_sum, counters, out, t * kv_heads + kv_head,
                                head_index, group, D, p, partitions, scores);
        return;
    }

    for (int i = tid; i < group * D; i += blockDim.x) query[i] = bf16_to_float(q[head_index * D + i]) * scale;
    if (tid < group) {
        stats[tid] = -INFINITY;
        stats[8 + tid] = 0.0f;
    }
    const int chunk = tid % chunks, slice = tid / chunks, part = tid & 3;
    float acc[MAXG][8];
    #pragma unroll
    for (int g = 0; g < MAXG; ++g)
        #pragma unroll
        for (int i = 0; i < 8; ++i) acc[g][i] = 0.0f;

    for (int tile = begin; tile < end; tile += TERN_DECODE_KEYS) {
        const int count = min(TERN_DECODE_KEYS, end - tile);
        __syncthreads();  // the previous tile's rows and scores are no longer read
        if (tid < count) {
            const int key = tile + tid;
            rows[tid] = ((long long)table[key / block_size] * block_size + key % block_size) * kv_heads + kv_head;
        }
        __syncthreads();
        // Scores: key kk by the four lanes of a quad, lane part q taking chunks q, q + 4, ...
        #pragma unroll
        for (int pass = 0; pass < 2; ++pass) {
            const int kk = (tid >> 2) + 32 * pass;
            float dot[MAXG];
            #pragma unroll
            for (int g = 0; g < MAXG; ++g) dot[g] = 0.0f;
            if (kk < count) {
                const uint4 *k = (const uint4 *)(k_cache + rows[kk] * D);
                if (D_FIXED > 0) {
                    uint4 loaded[K_LOADS];
                    #pragma unroll
                    for (int u = 0; u < K_LOADS; ++u) loaded[u] = k[part + 4 * u];
                    #pragma unroll
                    for (int u = 0; u < K_LOADS; ++u)
                        score_chunk<MAXG>(loaded[u], query + (part + 4 * u) * 8, D, group, dot);
                } else {
                    for (int c = part; c < chunks; c += 4) score_chunk<MAXG>(k[c], query + c * 8, D, group, dot);
                }
            }
            #pragma unroll
            for (int g = 0; g < MAXG; ++g) {
                dot[g] += __shfl_xor_sync(0xffffffffu, dot[g], 1);
                dot[g] += __shfl_xor_sync(0xffffffffu, dot[g], 2);
            }
            if (part == 0 && kk < count) {
                #pragma unroll
                for (int g = 0; g < MAXG; ++g)
                    if (g < group) scores[g * TERN_DECODE_KEYS + kk] = dot[g];
            }
        }
        __syncthreads();
        // Probabilities: warp w takes heads w and w + 4.
        for (int g = warp; g < group; g += 4) {
            float *row_scores = scores + g * TERN_DECODE_KEYS;
            float local = -INFINITY;
            for (int j = lane; j < count; j += 32) local = fmaxf(local, row_scores[j]);
            const float old_max = stats[g];
            const float new_max = fmaxf(old_max, warp_max(local));
            float local_sum = 0.0f;
            for (int j = lane; j < count; j += 32) {
                const float e = __expf(row_scores[j] - new_max);
                row_scores[j] = e;
                local_sum += e;
            }
            const float correction = __expf(old_max - new_max);
            const float total = warp_sum(local_sum);
            __syncwarp();
            if (lane == 0) {
                stats[g] = new_max;
                stats[8 + g] = stats[8 + g] * correction + total;
                stats[16 + g] = correction;
            }
        }
        __syncthreads();
        // Values: this thread's chunk of V over keys slice, slice + slices, ...
        #pragma unroll
        for (int g = 0; g < MAXG; ++g) {
            if (g < group) {
                const float correction = stats[16 + g];
                #pragma unroll
                for (int i = 0; i < 8; ++i) acc[g][i] *= correction;
            }
        }
        if (D_FIXED > 0) {
            uint4 loaded[V_LOADS];
            #pragma unroll
            for (int u = 0; u < V_LOADS; ++u) {
                const int j = slice + u * slices;
                loaded[u] = j < count ? ((const uint4 *)(v_cache + rows[j] * D))[chunk] : make_uint4(0u, 0u, 0u, 0u);
            }
            #pragma unroll
            for (int u = 0; u < V_LOADS; ++u) {
                const int j = slice + u * slices;
                if (j < count) {
                    float vf[8];
                    unpack_bf16x8(loaded[u], vf);
                    #pragma unroll
                    for (int g = 0; g < MAXG; ++g) {
                        if (g < group) {
                            const float weight = scores[g * TERN_DECODE_KEYS + j];
                            #pragma unroll
                            for (int i = 0; i < 8; ++i) acc[g][i] += weight * vf[i];
                        }
                    }
                }
            }
        } else {
            #pragma unroll 4
            for (int j = slice; j < count; j += slices) {
                float vf[8];
                unpack_bf16x8(((const uint4 *)(v_cache + rows[j] * D))[chunk], vf);
                #pragma unroll
                for (int g = 0; g < MAXG; ++g) {
                    if (g < group) {
                        const float weight = scores[g * TERN_DECODE_KEYS + j];
                        #pragma unroll
                        for (int i = 0; i < 8; ++i) acc[g][i] += weight * vf[i];
                    }
                }
            }
        }
    }

    // Sum the slices.
    #pragma unroll
    for (int g = 0; g < MAXG; ++g)
        if (g < group)
            #pragma unroll
            for (int i = 0; i < 8; ++i) reduce[(slice * group + g) * D + chunk * 8 + i] = acc[g][i];
    __syncthreads();
    for (int i = tid; i < group * D; i += blockDim.x) {
        float value = 0.0f;
        for (int sl = 0; sl < slices; ++sl) value += reduce[sl * group * D + i];
        const int g = i / D, d = i % D;
        if (partitions == 1) {
            const float sum = stats[8 + g];
            out[(head_index + g) * D + d] = float_to_bf16(sum > 0.0f ? value / sum : 0.0f);
        } else {
            partial_out[((head_index + g) * partitions + p) * D + d] = value;
        }
    }
    if (partitions > 1) {
        if (tid < group) {
            partial_max[(head_index + tid) * partitions + p] = stats[tid];
            partial_sum[(head_index + tid) * partitions + p] = stats[8 + tid];
        }
        __syncthreads();  // the scores are free for the merge
        attention_merge_if_last(partial_out, partial_max, partial_sum, counters, out, t * kv_heads + kv_head,
                                head_index, group, D, p, partitions, scores);
    }
}

#define TERN_ATTENTION_PARTIAL(NAME, D, MAXG) \
extern "C" __global__ void __launch_bounds__(128) NAME( \
        const bf16_t *q, const bf16_t *k_cache, const bf16_t *v_cache, \
        const int *query_start, const int *seq_lens, const int *block_table, \
        int batch, int max_blocks, int block_size, int heads, int kv_heads, int head_dim, \
        float scale, int window, int min_keys, float *partial_out, float *partial_max, float *partial_sum, \
        int *counters, bf16_t *out) { \
    tern_grid_dependency(); \
    attention_partial<D, MAXG>(q, k_cache, v_cache, query_start, seq_lens, block_table, batch, max_blocks, \
                               block_size, heads, kv_heads, head_dim, scale, window, min_keys, partial_out, \
                               partial_max, partial_sum, counters, out); \
}
TERN_ATTENTION_PARTIAL(tern_attention_partial, 0, 8)
TERN_ATTENTION_PARTIAL(tern_attention_partial_d64_g4, 64, 4)
TERN_ATTENTION_PARTIAL(tern_attention_partial_d64_g8, 64, 8)
TERN_ATTENTION_PARTIAL(tern_attention_partial_d128_g4, 128, 4)
TERN_ATTENTION_PARTIAL(tern_attention_partial_d128_g8, 128, 8)

"""#
}
