extension KernelSource {
    /// Paged attention for steps with prompts in them on the tensor cores (mma.sync m16n8k16,
    /// bf16 in, f32 accumulate), FlashAttention-2 style: a block takes the same query tile as
    /// `tern_attention_tiled` (up to 64 query rows: consecutive tokens of one sequence times
    /// the query heads of one KV head), each of its four warps 16 of those rows; K and V come
    /// through shared memory 64 keys at a time, and the softmax runs online in registers.
    static let mmaAttention = #"""
#define TERN_MMA_KEYS TERN_KEYS  // the tiles of load_kv_tile

__device__ __forceinline__ void mma_bf16_16816(float *c, const unsigned *a, unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats as a bf16 pair (round to nearest even), lo in the low half.
__device__ __forceinline__ unsigned pack_bf16x2(float lo, float hi) {
    unsigned r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

// Fragments (PTX ISA, mma.m16n8k16): lane = 4 * gid + tig. A (16x16, row-major) regs
// {row gid, cols 2tig..+1}, {row gid+8, same}, {row gid, cols 2tig+8..+9}, {row gid+8, same};
// B (16x8) regs {rows 2tig..+1, col gid}, {rows 2tig+8..+9, col gid}; C (16x8 f32)
// {row gid, cols 2tig, 2tig+1}, {row gid+8, same}.
template <int D>
__device__ __forceinline__ void attention_mma(
        const bf16_t *q, const bf16_t *k_cache, const bf16_t *v_cache,
        const int *query_start, const int *seq_lens, const int *block_table, const int *tiles,
        int max_blocks, int block_size, int heads, int kv_heads, float scale_log2, int window, bf16_t *out) {
    constexpr int STRIDE = D + 8;     // bf16 a shared row: the fragment loads hit 32 banks
    constexpr int KSTEPS = D / 16;    // k-steps of Q·Kᵀ
    constexpr int DTILES = D / 8;     // n-tiles of the output
    extern __shared__ __align__(16) unsigned char smem[];
    bf16_t *ks = (bf16_t *)smem;                      // [KEYS][STRIDE]
    bf16_t *vs = ks + TERN_MMA_KEYS * STRIDE;         // [KEYS][STRIDE]
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int gid = lane >> 2, tig = lane & 3;
    const int group = heads / kv_heads, kv_head = blockIdx.y;
    const int s = tiles[blockIdx.x * 3], first = tiles[blockIdx.x * 3 + 1], count = tiles[blockIdx.x * 3 + 2];
    const int rows = count * group;
    const int q_len = query_start[s + 1] - query_start[s];
    const int base_position = seq_lens[s] - q_len + (first - query_start[s]);
    const int *table = block_table + (long long)s * max_blocks;
    const int last_position = base_position + count - 1;
    const int key_begin = window > 0 ? max(0, base_position - window + 1) : 0;
    const bool warp_active = warp * 16 < rows;

    bool row_valid[2];
    int row_position[2];
    #pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int r = warp * 16 + gid + 8 * h;
        row_valid[h] = r < rows;
        row_position[h] = base_position + r / group;
    }
    unsigned qa[KSTEPS][4];
    #pragma unroll
    for (int kk = 0; kk < KSTEPS; ++kk) {
        #pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int r = warp * 16 + gid + 8 * (i & 1);
            const int column = kk * 16 + 2 * tig + 8 * (i >> 1);
            qa[kk][i] = r < rows
                ? *(const unsigned *)(q + ((long long)(first + r / group) * heads + kv_head * group + r % group) * D + column)
                : 0u;
        }
    }
    float o[DTILES][4];
    #pragma unroll
    for (int dt = 0; dt < DTILES; ++dt)
        #pragma unroll
        for (int i = 0; i < 4; ++i) o[dt][i] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

    for (int tile = key_begin; tile <= last_position; tile += TERN_MMA_KEYS) {
        __syncthreads();  // every warp is done with the previous tile
        load_kv_tile(ks, vs, STRIDE, k_cache, v_cache, table, block_size, kv_heads, kv_head, D, tile, last_position);
        __syncthreads();
        if (!warp_active) continue;

        // S = Q·Kᵀ over the tile: 8 n-tiles of 8 keys.
        float sc[8][4];
        #pragma unroll
        for (int nt = 0; nt < 8; ++nt)
            #pragma unroll
            for (int i = 0; i < 4; ++i) sc[nt][i] = 0.0f;
        #pragma unroll
        for (int kk = 0; kk < KSTEPS; ++kk) {
            #pragma unroll
            for (int nt = 0; nt < 8; ++nt) {
                const bf16_t *kr = ks + (nt * 8 + gid) * STRIDE + kk * 16 + 2 * tig;
                mma_bf16_16816(sc[nt], qa[kk], *(const unsigned *)kr, *(const unsigned *)(kr + 8));
            }
        }
        // Mask, scale (log2 domain) and the online softmax; a quad holds a row's 64 columns.
        float tile_max[2] = {-INFINITY, -INFINITY};
        #pragma unroll
        for (int nt = 0; nt < 8; ++nt) {
            #pragma unroll
            for (int i = 0; i < 4; ++i) {
                const int h = i >> 1;
                const int key = tile + nt * 8 + 2 * tig + (i & 1);
                const bool visible = row_valid[h] && key <= row_position[h] &&
                                     (window <= 0 || key > row_position[h] - window);
                sc[nt][i] = visible ? sc[nt][i] * scale_log2 : -INFINITY;
                tile_max[h] = fmaxf(tile_max[h], sc[nt][i]);
            }
        }
        float correction[2], row_sum[2] = {0.0f, 0.0f};
        #pragma unroll
        for (int h = 0; h < 2; ++h) {
            tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
            tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
            const float new_max = fmaxf(m[h], tile_max[h]);
            correction[h] = new_max == -INFINITY ? 1.0f : exp2f(m[h] - new_max);
            m[h] = new_max;
        }
        #pragma unroll
        for (int nt = 0; nt < 8; ++nt) {
            #pragma unroll
            for (int i = 0; i < 4; ++i) {
                const int h = i >> 1;
                const float p = m[h] == -INFINITY ? 0.0f : exp2f(sc[nt][i] - m[h]);
                sc[nt][i] = p;
                row_sum[h] += p;
            }
        }
        #pragma unroll
        for (int h = 0; h < 2; ++h) {
            row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 1);
            row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 2);
            l[h] = l[h] * correction[h] + row_sum[h];
        }
        #pragma unroll
        for (int dt = 0; dt < DTILES; ++dt) {
            o[dt][0] *= correction[0];
            o[dt][1] *= correction[0];
            o[dt][2] *= correction[1];
            o[dt][3] *= correction[1];
        }
        // O += P·V: the C fragments of S are the A fragments of P, 16 keys a k-step.
        #pragma unroll
        for (int j = 0; j < 4; ++j) {
            const unsigned pa[4] = {
                pack_bf16x2(sc[2 * j][0], sc[2 * j][1]), pack_bf16x2(sc[2 * j][2], sc[2 * j][3]),
                pack_bf16x2(sc[2 * j + 1][0], sc[2 * j + 1][1]), pack_bf16x2(sc[2 * j + 1][2], sc[2 * j + 1][3]),
            };
            const bf16_t *vr = vs + (16 * j + 2 * tig) * STRIDE + gid;
            #pragma unroll
            for (int dt = 0; dt < DTILES; ++dt) {
                const bf16_t *v = vr + dt * 8;
                const unsigned b0 = (unsigned)v[0] | ((unsigned)v[STRIDE] << 16);
                const unsigned b1 = (unsigned)v[8 * STRIDE] | ((unsigned)v[9 * STRIDE] << 16);
                mma_bf16_16816(o[dt], pa, b0, b1);
            }
        }
    }
    #pragma unroll
    for (int h = 0; h < 2; ++h) {
        if (!row_valid[h]) continue;
        const int r = warp * 16 + gid + 8 * h;
        const float inverse = l[h] > 0.0f ? 1.0f / l[h] : 0.0f;
        bf16_t *dst = out + ((long long)(first + r / group) * heads + kv_head * group + r % group) * D + 2 * tig;
        #pragma unroll
        for (int dt = 0; dt < DTILES; ++dt)
            *(unsigned *)(dst + dt * 8) = pack_bf16x2(o[dt][2 * h] * inverse, o[dt][2 * h + 1] * inverse);
    }
}

// The tiles of `tern_attention_tiled` for head_dim 64 and 128. grid (tiles, kv_heads),
// block 128, shared 2 * 64 * (head_dim + 8) * 2 bytes. scale_log2 = log2(e) / sqrt(head_dim).
extern "C" __global__ void __launch_bounds__(128) tern_attention_mma64(
        const bf16_t *q, const bf16_t *k_cache, const bf16_t *v_cache,
        const int *query_start, const int *seq_lens, const int *block_table, const int *tiles,
        int max_blocks, int block_size, int heads, int kv_heads, float scale_log2, int window, bf16_t *out) {
    tern_grid_dependency();
    attention_mma<64>(q, k_cache, v_cache, query_start, seq_lens, block_table, tiles, max_blocks, block_size,
                      heads, kv_heads, scale_log2, window, out);
}

extern "C" __global__ void __launch_bounds__(128) tern_attention_mma128(
        const bf16_t *q, const bf16_t *k_cache, const bf16_t *v_cache,
        const int *query_start, const int *seq_lens, const int *block_table, const int *tiles,
        int max_blocks, int block_size, int heads, int kv_heads, float scale_log2, int window, bf16_t *out) {
    tern_grid_dependency();
    attention_mma<128>(q, k_cache, v_cache, query_start, seq_lens, block_table, tiles, max_blocks, block_size,
                       heads, kv_heads, scale_log2, window, out);
}

"""#
}
