extension KernelSource {
    /// Embedding gather, RMSNorm, Q/K/V post-processing with the cache write, SwiGLU / GeGLU.
    static let elementwise = #"""
// out [T, hidden] f32 = table[ids[t]] (bf16 rows) * scale (1, or Gemma's sqrt(hidden)).
// grid T, any block.
extern "C" __global__ void tern_embedding(const bf16_t *table, const int *ids, float *out, int hidden,
                                          float scale) {
    tern_grid_dependency();
    const long long t = blockIdx.x;
    const bf16_t *row = table + (long long)ids[t] * hidden;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) out[t * hidden + i] = bf16_to_float(row[i]) * scale;
}

// out [R, dim] bf16 = RMSNorm(x[rows ? rows[r] : r]) * weight, in f32 like transformers.
// grid R, block a multiple of 32.
extern "C" __global__ void tern_rmsnorm(const float *x, const int *rows, const float *weight, bf16_t *out,
                                        int dim, float eps) {
    tern_grid_dependency();
    __shared__ float scratch[32];
    const long long r = blockIdx.x;
    const float *in = x + (long long)(rows ? rows[r] : r) * dim;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) sum += in[i] * in[i];
    const float inv = rsqrtf(block_reduce(sum, scratch, false) / (float)dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[r * dim + i] = float_to_bf16(weight[i] * (in[i] * inv));
}

// residual [R, dim] f32 += RMSNorm(x [R, dim] f32) * weight: a block's output normalised
// before it joins the residual (Gemma's post-attention and post-MLP norms). grid R, block a
// multiple of 32.
extern "C" __global__ void tern_rmsnorm_add(const float *x, const float *weight, float *residual, int dim,
                                            float eps) {
    tern_grid_dependency();
    __shared__ float scratch[32];
    const long long r = blockIdx.x;
    const float *in = x + r * dim;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) sum += in[i] * in[i];
    const float inv = rsqrtf(block_reduce(sum, scratch, false) / (float)dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) residual[r * dim + i] += weight[i] * (in[i] * inv);
}

// Per token: adds the Q/K/V bias (Qwen2), normalises each Q and K head (Qwen3), rotates Q
// and K (RoPE, neox or interleaved pairs), writes Q [T, heads, headDim] bf16 and K, V into
// the paged cache at slots[t] (skipped where the slot is negative).
// grid (T, ceil((heads + 2 kv_heads) / 4)), block 128 (a warp a head), shared 4 * headDim floats.
extern "C" __global__ void tern_qkv_rope_cache(
        const float *qkv, const float *bias, const float *q_norm, const float *k_norm,
        const float *inv_freq, const int *positions, const long long *slots,
        bf16_t *q_out, bf16_t *k_cache, bf16_t *v_cache,
        int heads, int kv_heads, int head_dim, int rotary_dim, int neox, float eps) {
    tern_grid_dependency();
    extern __shared__ float shared[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    const long long t = blockIdx.x;
    const int width = (heads + 2 * kv_heads) * head_dim;
    const long long slot = slots[t];
    const float position = (float)positions[t];
    float *buf = shared + warp * head_dim;
    for (int h = blockIdx.y * warps + warp; h < heads + 2 * kv_heads; h += warps * gridDim.y) {
        const int column = h * head_dim;
        for (int d = lane; d < head_dim; d += 32)
            buf[d] = qkv[t * width + column + d] + (bias ? bias[column + d] : 0.0f);
        __syncwarp();
        if (h >= heads + kv_heads) {
            if (slot >= 0) {
                const long long base = (slot * kv_heads + (h - heads - kv_heads)) * head_dim;
                for (int d = lane; d < head_dim; d += 32) v_cache[base + d] = float_to_bf16(buf[d]);
            }
            __syncwarp();
            continue;
        }
        const bool is_query = h < heads;
        const float *norm = is_query ? q_norm : k_norm;
        if (norm) {
            float sum = 0.0f;
            for (int d = lane; d < head_dim; d += 32) sum += buf[d] * buf[d];
            const float inv = rsqrtf(warp_sum(sum) / (float)head_dim + eps);
            __syncwarp();
            for (int d = lane; d < head_dim; d += 32) buf[d] = norm[d] * (buf[d] * inv);
            __syncwarp();
        }
        float rotated[8];
        for (int k = 0, d = lane; d < head_dim; d += 32, ++k) {
            float value = buf[d];
            if (d < rotary_dim) {
                const int half = rotary_dim / 2;
                int pair;
                float partner, sign;
                if (neox) {
                    pair = d < half ? d : d - half;
                    partner = d < half ? buf[d + half] : buf[d - half];
                    sign = d < half ? -1.0f : 1.0f;
                } else {
                    pair = d / 2;
                    partner = (d & 1) ? buf[d - 1] : buf[d + 1];
                    sign = (d & 1) ? 1.0f : -1.0f;
                }
                float s, c;
                sincosf(position * inv_freq[pair], &s, &c);
                value = value * c + sign * partner * s;
            }
            rotated[k] = value;
        }
        if (is_query) {
            bf16_t *dst = q_out + (t * heads + h) * head_dim;
            for (int k = 0, d = lane; d < head_dim; d += 32, ++k) dst[d] = float_to_bf16(rotated[k]);
        } else if (slot >= 0) {
            bf16_t *dst = k_cache + (slot * kv_heads + (h - heads)) * head_dim;
            for (int k = 0, d = lane; d < head_dim; d += 32, ++k) dst[d] = float_to_bf16(rotated[k]);
        }
        __syncwarp();
    }
}

// out [T, inter] bf16 = act(gate) * up, with gate_up [T, 2 * inter] bf16 (gate first); act is
// SiLU, or with gelu set the tanh-approximated GELU (Gemma's GeGLU).
extern "C" __global__ void tern_silu_mul(const bf16_t *gate_up, bf16_t *out, int inter, long long total,
                                         int gelu) {
    tern_grid_dependency();
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const long long t = i / inter, j = i % inter;
        const float g = bf16_to_float(gate_up[t * 2 * inter + j]);
        const float u = bf16_to_float(gate_up[t * 2 * inter + inter + j]);
        out[i] = float_to_bf16(gated_activation(g, gelu) * u);
    }
}

"""#
}
