extension KernelSource {
    /// Paged attention over a ragged batch, split along the keys.
    ///
    /// Query token t of sequence s sits at position seq_lens[s] - q_len(s) + (t - query_start[s])
    /// and attends causally to the keys [0, position] (the last `window` of them when a sliding
    /// window is set) found through the block table. The same launch serves prefill, chunked
    /// prefill, prefix-cache hits and decode. Each (token, head) range of keys is cut into
    /// `partitions` pieces so that a short batch (decode) still fills the GPU; each piece
    /// leaves its max, sum of exponentials and weighted values, merged by the combine kernel.
    static let attention = #"""
#define TERN_TILE 256

// grid (T, heads, partitions), block 128, shared (TERN_TILE + 32 + head_dim) floats.
// partial_out [T, heads, partitions, head_dim], partial_max/partial_sum [T, heads, partitions].
extern "C" __global__ void tern_attention_partial(
        const bf16_t *q, const bf16_t *k_cache, const bf16_t *v_cache,
        const int *query_start, const int *seq_lens, const int *block_table,
        int batch, int max_blocks, int block_size, int heads, int kv_heads, int head_dim,
        float scale, int window, float *partial_out, float *partial_max, float *partial_sum) {
    extern __shared__ float shared[];
    float *scores = shared;                  // [TERN_TILE]
    float *scratch = shared + TERN_TILE;     // [32]
    float *query = scratch + 32;             // [head_dim]
    const int t = blockIdx.x, h = blockIdx.y, p = blockIdx.z, partitions = gridDim.z;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, warps = blockDim.x >> 5;

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
    const int kv_head = h / (heads / kv_heads);
    const int *table = block_table + (long long)s * max_blocks;

    for (int d = tid; d < head_dim; d += blockDim.x)
        query[d] = bf16_to_float(q[((long long)t * heads + h) * head_dim + d]) * scale;
    __syncthreads();

    // Output ownership: thread -> (dim, key group); head_dim <= 256.
    const int groups = head_dim >= (int)blockDim.x ? 1 : blockDim.x / head_dim;
    const int dim0 = tid % head_dim, group = tid / head_dim;
    const bool owns = group < groups;
    const bool two_dims = head_dim > (int)blockDim.x && tid + (int)blockDim.x < head_dim;
    float acc0 = 0.0f, acc1 = 0.0f, running_max = -INFINITY, running_sum = 0.0f;

    for (int tile = begin; tile < end; tile += TERN_TILE) {
        const int count = min(TERN_TILE, end - tile);
        for (int j = warp; j < count; j += warps) {
            const int key = tile + j;
            const long long row = ((long long)table[key / block_size] * block_size + key % block_size) * kv_heads + kv_head;
            const bf16_t *k = k_cache + row * head_dim;
            float dot = 0.0f;
            for (int d = lane; d < head_dim; d += 32) dot += query[d] * bf16_to_float(k[d]);
            dot = warp_sum(dot);
            if (lane == 0) scores[j] = dot;
        }
        __syncthreads();
        float local = -INFINITY;
        for (int j = tid; j < count; j += blockDim.x) local = fmaxf(local, scores[j]);
        const float new_max = fmaxf(running_max, block_reduce(local, scratch, true));
        float local_sum = 0.0f;
        for (int j = tid; j < count; j += blockDim.x) {
            const float e = expf(scores[j] - new_max);
            scores[j] = e;
            local_sum += e;
        }
        const float correction = expf(running_max - new_max);
        running_sum = running_sum * correction + block_reduce(local_sum, scratch, false);
        running_max = new_max;
        acc0 *= correction;
        acc1 *= correction;
        if (owns) {
            for (int j = group; j < count; j += groups) {
                const int key = tile + j;
                const long long row = ((long long)table[key / block_size] * block_size + key % block_size) * kv_heads + kv_head;
                const bf16_t *v = v_cache + row * head_dim;
                acc0 += scores[j] * bf16_to_float(v[dim0]);
                if (two_dims) acc1 += scores[j] * bf16_to_float(v[dim0 + blockDim.x]);
            }
        }
        __syncthreads();
    }

    // Sum the key groups' partial vectors (scores is free now).
    const long long out_index = ((long long)t * heads + h) * partitions + p;
    float *out = partial_out + out_index * head_dim;
    if (groups > 1) {
        if (owns) scores[group * head_dim + dim0] = acc0;
        __syncthreads();
        if (tid < head_dim) {
            float total = 0.0f;
            for (int g = 0; g < groups; ++g) total += scores[g * head_dim + tid];
            out[tid] = total;
        }
    } else {
        if (owns) out[dim0] = acc0;
        if (two_dims) out[dim0 + blockDim.x] = acc1;
    }
    if (tid == 0) {
        partial_max[out_index] = running_max;
        partial_sum[out_index] = running_sum;
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
