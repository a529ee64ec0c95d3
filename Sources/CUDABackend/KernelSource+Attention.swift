extension KernelSource {
    /// Paged attention over a ragged batch, split along the keys.
    ///
    /// Query token t of sequence s sits at position seq_lens[s] - q_len(s) + (t - query_start[s])
    /// and attends causally to the keys [0, position] (the last `window` of them when a sliding
    /// window is set) found through the block table. The same launch serves prefill, chunked
    /// prefill, prefix-cache hits and decode. Each (token, head) range of keys is cut into
    /// `partitions` pieces so that a short batch (decode) still fills the GPU; each piece
    /// leaves its max, sum of exponentials and weighted values, merged by the combine kernel.
    /// Empty pieces leave a max of -inf and are skipped by the merge.
    static let attention = #"""
#define TERN_DECODE_KEYS 128
#define TERN_MAX_GROUP 8

// One block per (query token, KV head, piece of the keys) with the KV head's whole group of
// query heads (GQA), so each K/V row is read from memory once: a thread scores one key of
// the tile against every query head of the group (16-byte loads of its K row), then warp w
// accumulates query heads w, w + 4 over the tile's V rows, each lane head_dim / 32 dims.
// grid (T, kv_heads, partitions), block 128, shared (group * (head_dim + 128) + 128) * 4 bytes.
// group <= 8, head_dim a multiple of 32 and at most 256.
// partial_out [T, heads, partitions, head_dim], partial_max/partial_sum [T, heads, partitions].
extern "C" __global__ void tern_attention_partial(
        const bf16_t *q, const bf16_t *k_cache, const bf16_t *v_cache,
        const int *query_start, const int *seq_lens, const int *block_table,
        int batch, int max_blocks, int block_size, int heads, int kv_heads, int head_dim,
        float scale, int window, float *partial_out, float *partial_max, float *partial_sum) {
    extern __shared__ float shared[];
    const int group = heads / kv_heads, D = head_dim;
    float *query = shared;                                // [group][D]
    float *scores = query + group * D;                    // [group][TERN_DECODE_KEYS]
    long long *rows = (long long *)(scores + group * TERN_DECODE_KEYS);  // [TERN_DECODE_KEYS]
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
    const int per_partition = (keys + partitions - 1) / partitions;
    const int begin = first_key + p * per_partition;
    const int end = min(begin + per_partition, position + 1);
    const int *table = block_table + (long long)s * max_blocks;

    for (int i = tid; i < group * D; i += blockDim.x)
        query[i] = bf16_to_float(q[((long long)t * heads + kv_head * group) * D + i]) * scale;
    __syncthreads();

    const int per_lane = D / 32;
    float acc[2][8];
    float running_max[2] = {-INFINITY, -INFINITY}, running_sum[2] = {0.0f, 0.0f};
    for (int a = 0; a < 2; ++a)
        for (int i = 0; i < 8; ++i) acc[a][i] = 0.0f;

    for (int tile = begin; tile < end; tile += TERN_DECODE_KEYS) {
        const int count = min(TERN_DECODE_KEYS, end - tile);
        if (tid < count) {
            const int key = tile + tid;
            const long long row = ((long long)table[key / block_size] * block_size + key % block_size) * kv_heads + kv_head;
            rows[tid] = row;
            const uint4 *k = (const uint4 *)(k_cache + row * D);
            float dot[TERN_MAX_GROUP];
            for (int g = 0; g < TERN_MAX_GROUP; ++g) dot[g] = 0.0f;
            for (int c = 0; c < D / 8; ++c) {
                const uint4 packed = k[c];
                const unsigned int words[4] = {packed.x, packed.y, packed.z, packed.w};
                float kf[8];
                for (int i = 0; i < 4; ++i) {
                    kf[2 * i] = __uint_as_float(words[i] << 16);
                    kf[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
                }
                for (int g = 0; g < TERN_MAX_GROUP; ++g) {
                    if (g >= group) break;
                    const float *qg = query + g * D + c * 8;
                    float sum = 0.0f;
                    for (int i = 0; i < 8; ++i) sum += qg[i] * kf[i];
                    dot[g] += sum;
                }
            }
            for (int g = 0; g < group; ++g) scores[g * TERN_DECODE_KEYS + tid] = dot[g];
        }
        __syncthreads();
        for (int a = 0; a < 2; ++a) {
            const int g = warp + 4 * a;
            if (g >= group) break;
            float *row_scores = scores + g * TERN_DECODE_KEYS;
            float local = -INFINITY;
            for (int j = lane; j < count; j += 32) local = fmaxf(local, row_scores[j]);
            const float new_max = fmaxf(running_max[a], warp_max(local));
            float local_sum = 0.0f;
            for (int j = lane; j < count; j += 32) {
                const float e = expf(row_scores[j] - new_max);
                row_scores[j] = e;
                local_sum += e;
            }
            const float correction = expf(running_max[a] - new_max);
            running_sum[a] = running_sum[a] * correction + warp_sum(local_sum);
            running_max[a] = new_max;
            for (int i = 0; i < 8; ++i) acc[a][i] *= correction;
            __syncwarp();
            // Unrolled so that several V rows are in flight at once.
            #pragma unroll 8
            for (int j = 0; j < count; ++j) {
                const float weight = row_scores[j];
                const bf16_t *v = v_cache + rows[j] * D + lane * per_lane;
                for (int i = 0; i < 8; ++i)
                    if (i < per_lane) acc[a][i] += weight * bf16_to_float(v[i]);
            }
        }
        __syncthreads();
    }

    for (int a = 0; a < 2; ++a) {
        const int g = warp + 4 * a;
        if (g >= group) break;
        const long long index = ((long long)t * heads + kv_head * group + g) * partitions + p;
        float *out = partial_out + index * D + lane * per_lane;
        for (int i = 0; i < 8; ++i)
            if (i < per_lane) out[i] = acc[a][i];
        if (lane == 0) {
            partial_max[index] = running_max[a];
            partial_sum[index] = running_sum[a];
        }
    }
}

// out [T, heads * head_dim] bf16: the partitions merged. grid (T, heads), block head_dim.
extern "C" __global__ void tern_attention_combine(
        const float *partial_out, const float *partial_max, const float *partial_sum,
        bf16_t *out, int heads, int head_dim, int partitions) {
    const long long base = ((long long)blockIdx.x * heads + blockIdx.y) * partitions;
    float global_max = -INFINITY;
    for (int p = 0; p < partitions; ++p) global_max = fmaxf(global_max, partial_max[base + p]);
    float total = 0.0f, value = 0.0f;
    for (int p = 0; p < partitions; ++p) {
        const float m = partial_max[base + p];
        if (m == -INFINITY) continue;
        const float weight = expf(m - global_max);
        total += partial_sum[base + p] * weight;
        value += partial_out[(base + p) * head_dim + threadIdx.x] * weight;
    }
    out[((long long)blockIdx.x * heads + blockIdx.y) * head_dim + threadIdx.x] = float_to_bf16(value / total);
}

"""#
}
