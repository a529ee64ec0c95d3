extension KernelSource {
    /// Paged attention for steps with prompts in them: a block takes a tile of consecutive query
    /// tokens of one sequence with every query head of one KV head (GQA), so each K/V tile is
    /// read once into shared memory for up to 64 query rows. Same positions and masks as the
    /// split kernel; rows of a decode (one token) are tiles of their own.
    static let tiledAttention = #"""
#define TERN_ROWS 64
#define TERN_KEYS 64
#define TERN_MAX_HALF_DIM 64

// Copies the K and V rows of keys [tile, tile + 64) of one KV head (zeros past `last`)
// through the block table into shared ks, vs [64][stride] bf16, 16 bytes a thread at a time.
__device__ __forceinline__ void load_kv_tile(bf16_t *ks, bf16_t *vs, int stride, const bf16_t *k_cache,
                                             const bf16_t *v_cache, const int *table, int block_size, int kv_heads,
                                             int kv_head, int D, int tile, int last) {
    const int chunks = D / 8;
    for (int i = threadIdx.x; i < TERN_KEYS * chunks; i += blockDim.x) {
        const int key = i / chunks, c = i % chunks, kpos = tile + key;
        uint4 kv = make_uint4(0u, 0u, 0u, 0u), vv = make_uint4(0u, 0u, 0u, 0u);
        if (kpos <= last) {
            const long long slot = (long long)table[kpos / block_size] * block_size + kpos % block_size;
            const long long offset = (slot * kv_heads + kv_head) * D + c * 8;
            kv = *(const uint4 *)(k_cache + offset);
            vv = *(const uint4 *)(v_cache + offset);
        }
        *(uint4 *)(ks + key * stride + c * 8) = kv;
        *(uint4 *)(vs + key * stride + c * 8) = vv;
    }
}

// tiles [n, 3]: sequence, first flat token, tokens (at most 64 / group). grid (n, kv_heads),
// block 128 (two threads a query row, each half the keys and half the dims), shared memory
// TERN_ROWS * (head_dim + 1) * 4 + 2 * TERN_KEYS * head_dim * 2 + TERN_ROWS * (TERN_KEYS + 1) * 4 bytes.
// head_dim <= 128 and a multiple of 8. out [T, heads * head_dim] bf16.
extern "C" __global__ void tern_attention_tiled(
        const bf16_t *q, const bf16_t *k_cache, const bf16_t *v_cache,
        const int *query_start, const int *seq_lens, const int *block_table, const int *tiles,
        int max_blocks, int block_size, int heads, int kv_heads, int head_dim, float scale, int window,
        bf16_t *out) {
    tern_grid_dependency();
    extern __shared__ float shared[];
    const int D = head_dim, half_dim = head_dim / 2;
    float *qs = shared;                                           // [ROWS][D + 1]
    bf16_t *ks = (bf16_t *)(qs + TERN_ROWS * (D + 1));            // [KEYS][D]
    bf16_t *vs = ks + TERN_KEYS * D;                              // [KEYS][D]
    float *ps = (float *)(vs + TERN_KEYS * D);                    // [ROWS][KEYS + 1]
    const int tid = threadIdx.x, row = tid >> 1, half = tid & 1;
    const int group = heads / kv_heads, kv_head = blockIdx.y;
    const int s = tiles[blockIdx.x * 3], first = tiles[blockIdx.x * 3 + 1], count = tiles[blockIdx.x * 3 + 2];
    const int rows = count * group;
    const int q_len = query_start[s + 1] - query_start[s];
    const int base_position = seq_lens[s] - q_len + (first - query_start[s]);
    const int *table = block_table + (long long)s * max_blocks;
    const bool valid = row < rows;
    const int position = base_position + row / group;
    const int head = kv_head * group + row % group;

    for (int i = tid; i < TERN_ROWS * D; i += blockDim.x) {
        const int r = i / D, d = i % D;
        qs[r * (D + 1) + d] = r < rows
            ? bf16_to_float(q[((long long)(first + r / group) * heads + kv_head * group + r % group) * D + d]) * scale
            : 0.0f;
    }
    const int last_position = base_position + count - 1;
    const int key_begin = window > 0 ? max(0, base_position - window + 1) : 0;
    float acc[TERN_MAX_HALF_DIM];
    #pragma unroll
    for (int i = 0; i < TERN_MAX_HALF_DIM; ++i) acc[i] = 0.0f;
    float running_max = -INFINITY, running_sum = 0.0f;

    for (int tile = key_begin; tile <= last_position; tile += TERN_KEYS) {
        __syncthreads();
        load_kv_tile(ks, vs, D, k_cache, v_cache, table, block_size, kv_heads, kv_head, D, tile, last_position);
        __syncthreads();
        float scores[TERN_KEYS / 2];
        #pragma unroll
        for (int j = 0; j < TERN_KEYS / 2; ++j) scores[j] = 0.0f;
        if (valid) {
            const float *qrow = qs + row * (D + 1);
            const bf16_t *kbase = ks + half * (TERN_KEYS / 2) * D;
            for (int d = 0; d < D; ++d) {
                const float qd = qrow[d];
                #pragma unroll
                for (int j = 0; j < TERN_KEYS / 2; ++j) scores[j] += qd * bf16_to_float(kbase[j * D + d]);
            }
        }
        float tile_max = -INFINITY;
        #pragma unroll
        for (int j = 0; j < TERN_KEYS / 2; ++j) {
            const int kpos = tile + half * (TERN_KEYS / 2) + j;
            const bool visible = valid && kpos <= position && (window <= 0 || kpos > position - window);
            scores[j] = visible ? scores[j] : -INFINITY;
            tile_max = fmaxf(tile_max, scores[j]);
        }
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
        const float new_max = fmaxf(running_max, tile_max);
        const float correction = new_max == -INFINITY ? 1.0f : expf(running_max - new_max);
        float tile_sum = 0.0f;
        #pragma unroll
        for (int j = 0; j < TERN_KEYS / 2; ++j) {
            const float p = new_max == -INFINITY ? 0.0f : expf(scores[j] - new_max);
            tile_sum += p;
            ps[row * (TERN_KEYS + 1) + half * (TERN_KEYS / 2) + j] = p;
        }
        tile_sum += __shfl_xor_sync(0xffffffffu, tile_sum, 1);
        running_sum = running_sum * correction + tile_sum;
        running_max = new_max;
        #pragma unroll
        for (int i = 0; i < TERN_MAX_HALF_DIM; ++i) acc[i] *= correction;
        __syncwarp();
        if (valid) {
            const bf16_t *vbase = vs + half * half_dim;
            for (int j = 0; j < TERN_KEYS; ++j) {
                const float p = ps[row * (TERN_KEYS + 1) + j];
                if (p == 0.0f) continue;
                #pragma unroll
                for (int i = 0; i < TERN_MAX_HALF_DIM; ++i)
                    if (i < half_dim) acc[i] += p * bf16_to_float(vbase[j * D + i]);
            }
        }
    }
    if (!valid) return;
    bf16_t *dst = out + ((long long)(first + row / group) * heads + head) * D + half * half_dim;
    const float inverse = running_sum > 0.0f ? 1.0f / running_sum : 0.0f;
    #pragma unroll
    for (int i = 0; i < TERN_MAX_HALF_DIM; ++i)
        if (i < half_dim) dst[i] = float_to_bf16(acc[i] * inverse);
}

"""#
}
