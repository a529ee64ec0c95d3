// Tern CPU kernels: the hot loops of the CPU backend, in C so that they are always built
// optimised and can use AVX-512 / AVX2 intrinsics chosen at run time (tern_cpu_features).
//
// Conventions
// - A weight matrix W is [rows, cols] row-major (HF layout: rows = out features,
//   cols = in features). Quantized types (GGML ids, see DType.swift) store each row as
//   cols / block_size blocks; `wtype` is the GGML type id.
// - Activations are f32, token-major: X is [n_tokens, cols].
// - Every function that takes a tern_pool may split its work over the pool's threads;
//   pool may be NULL (single-threaded).
#ifndef TERN_KERNELS_H
#define TERN_KERNELS_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- CPU features -------------------------------------------------------------------
enum {
    TERN_CPU_AVX2 = 1 << 0,
    TERN_CPU_FMA = 1 << 1,
    TERN_CPU_F16C = 1 << 2,
    TERN_CPU_AVX512F = 1 << 3,
    TERN_CPU_AVX512BW = 1 << 4,
    TERN_CPU_AVX512VNNI = 1 << 5,
    TERN_CPU_AVX512BF16 = 1 << 6,
    TERN_CPU_AVXVNNI = 1 << 7,
    TERN_CPU_AVX512VL = 1 << 8,
};
/// Bitmask of TERN_CPU_* detected at run time (cpuid + OS support of the registers).
int tern_cpu_features(void);
/// Restrict the kernels to a subset of the detected features (tests use this to check
/// every code path against the portable one). Pass -1 to restore all detected features.
/// Kernel families: AVX-512 needs AVX512F, BW and VL plus the AVX2 set; AVX2 needs AVX2,
/// FMA and F16C; otherwise the portable C path runs. Each call reads the mask once.
void tern_set_cpu_features_mask(int mask);

// ---- thread pool --------------------------------------------------------------------
/// A fixed pool of worker threads that spin briefly between jobs (then sleep), so that
/// back-to-back small ops do not pay a wake-up each. The calling thread takes part.
typedef struct tern_pool tern_pool;
typedef void (*tern_task_fn)(void *ctx, int task, int n_tasks);
/// n_threads counts the calling thread: n_threads - 1 workers are started (none if
/// n_threads <= 1). Returns NULL if memory or a thread cannot be had.
tern_pool *tern_pool_create(int n_threads);
/// Stops and joins the workers. No tern_pool_run may be in progress. NULL is a no-op.
void tern_pool_destroy(tern_pool *pool);
/// Threads that run tasks, the caller included (1 for NULL).
int tern_pool_threads(const tern_pool *pool);
/// Runs fn(ctx, i, n_tasks) for i in [0, n_tasks) across the pool; returns when all are done
/// (their writes are then visible to the caller). Tasks are handed out in increasing order,
/// so put the longest first. One thread at a time may call this on a given pool, and fn
/// must not call it on the same pool. pool NULL runs the tasks in the calling thread.
void tern_pool_run(tern_pool *pool, tern_task_fn fn, void *ctx, int n_tasks);
/// Batch-invariant mode of the kernels that run on this pool (off by default): a token's
/// matmul results and a query's attention output are then bit for bit the same whatever
/// else shares the step. Matmuls take the one-token f32 arithmetic for every token count
/// (no integer decode kernels, no prefill panels), attention never splits a query's keys
/// over tasks and updates one row at a time over key groups at fixed positions.
void tern_pool_set_batch_invariant(tern_pool *pool, int on);
/// 1 in batch-invariant mode (pool NULL: 0).
int tern_pool_batch_invariant(const tern_pool *pool);

// ---- weights ------------------------------------------------------------------------
/// 1 if matmul / dequantize support this GGML type id: F32, F16, BF16, Q4_0, Q4_1, Q5_0,
/// Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (Q2_K and Q3_K have only the portable path).
int tern_type_supported(int wtype);
/// Bytes of one row of `cols` values, or 0 if the type is unsupported or cols is not a
/// multiple of its block size (32 for Q4_0..Q8_0, 256 for the K types). The functions
/// below require cols to be such that this is not 0 (they do nothing otherwise).
int64_t tern_row_bytes(int wtype, int64_t cols);
/// Dequantize rows [row_begin, row_begin + n_rows) of W into out [n_rows, cols].
void tern_dequantize_rows(const void *w, int wtype, int64_t cols, int64_t row_begin,
                          int64_t n_rows, float *out);
/// Embedding lookup: out[i, :] = dequantized row ids[i] of W [rows, cols]; every id must be
/// in [0, rows) (the caller checks).
void tern_get_rows(const void *w, int wtype, int64_t cols, const int32_t *ids, int64_t n,
                   float *out);
/// Y [n_tokens, rows] = X [n_tokens, cols] · Wᵀ, computed on W's blocks directly (no
/// dequantized copy). With accumulate != 0, Y += X · Wᵀ (a fused residual add).
/// Activations stay f32 and sums are f32. One token: each block is dequantized in
/// registers and multiplied with x; on AVX-512 VNNI, Q4_0 and Q4_1 instead cut x once into
/// three int8 limbs per block (x to within 2⁻²² of the block's largest |x|, see
/// matmul_vnni.c) and take integer dot products: results within ~1e-6 of Σ|w·x|; on AVX2
/// without AVX-512, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K likewise with two int16 limbs
/// (x to within 2⁻²² of the block's largest |x|, matmul_avx2_int.c). Several: a few rows at a time are dequantized into an
/// f32 panel in L1, once per 64 tokens, and multiplied as an f32 GEMM tile. Work is split
/// over rows across the pool. y must not overlap x or w.
void tern_matmul(tern_pool *pool, const void *w, int wtype, int64_t rows, int64_t cols,
                 const float *x, int64_t n_tokens, float *y, int accumulate);
/// tern_matmul of n matrices that share X, wtype and cols, in one pool run (one wait for
/// the workers instead of n; Q/K/V and gate/up read the same normed input):
/// Y_i [n_tokens, rows[i]] (+)= X [n_tokens, cols] · W_iᵀ, each row computed exactly as
/// tern_matmul computes it. No y[i] may overlap x, a w or another y.
void tern_matmul_many(tern_pool *pool, int n, const void *const *w, const int64_t *rows,
                      int wtype, int64_t cols, const float *x, int64_t n_tokens, float *const *y,
                      int accumulate);

// ---- elementwise --------------------------------------------------------------------
/// y[t, :] = x[t, :] / rms(x[t, :]) * (w + weight_offset); y may equal x.
/// (weight_offset is 0 for Llama, 1 for Gemma's (1 + w) norms.)
void tern_rmsnorm(const float *x, const float *w, float *y, int64_t n_tokens, int64_t dim,
                  float eps, float weight_offset);
/// gate[i] = silu(gate[i]) * up[i] for i in [0, n).
void tern_silu_mul(float *gate, const float *up, int64_t n);
/// gate[i] = gelu_tanh(gate[i]) * up[i] for i in [0, n): GeGLU with PyTorch's tanh GELU,
/// 0.5·g·(1 + tanh(√(2/π)·(g + 0.044715·g³))) (Gemma's `gelu_pytorch_tanh`).
void tern_gelu_tanh_mul(float *gate, const float *up, int64_t n);
/// gpt-oss's expert activation: with g = min(gate[i], limit) and u = clamp(up[i], -limit,
/// limit), gate[i] = (u + 1) · g · sigmoid(alpha · g) for i in [0, n), in float as
/// transformers' GptOssExperts computes it.
void tern_clamped_swiglu_mul(float *gate, const float *up, int64_t n, float alpha, float limit);
/// x[i] *= s for i in [0, n).
void tern_scale(float *x, int64_t n, float s);
/// x[i] = tanh(x[i] / cap) * cap for i in [0, n): Gemma 2's logit soft-capping.
void tern_softcap(float *x, int64_t n, float cap);
/// The tokens a draw can pick: every i with logits[i] >= cutoff (and above -inf), ascending,
/// written to order[0..<kept]; with weights, also exp(logits[i] - top) (the vector exp of
/// simd_math.h, a few ulp from expf). Returns kept. order and weights hold n entries.
int64_t tern_sampling_candidates(const float *logits, int64_t n, float cutoff, float top, int32_t *order,
                                 float *weights);
/// x[i] += y[i] for i in [0, n).
void tern_add(float *x, const float *y, int64_t n);
/// x[i] += s * y[i] for i in [0, n): a routed expert's output added with its routing weight.
void tern_add_scaled(float *x, const float *y, int64_t n, float s);
/// Rotary embedding in place on x [n_tokens, n_heads, head_dim], over the first rot_dim
/// dims of each head. inv_freq has rot_dim / 2 entries (scaling already applied).
/// neox != 0: pairs (i, i + rot_dim/2) (HF "rotate_half"); neox == 0: pairs (2i, 2i+1)
/// (llama.cpp "normal", which permuted GGUF llama Q/K weights need).
void tern_rope(float *x, int64_t n_tokens, int n_heads, int head_dim, int rot_dim,
               const int32_t *positions, const float *inv_freq, int neox);

// ---- paged KV cache and attention ---------------------------------------------------
/// Writes K and V rows [n_tokens, kv_dim] into the caches [num_slots, kv_dim] at
/// slot_mapping[t] (slot = block * block_size + offset; negative slots are skipped).
void tern_kv_write(const float *k, const float *v, int64_t n_tokens, int64_t kv_dim,
                   const int64_t *slot_mapping, float *k_cache, float *v_cache);
/// Causal attention over the paged cache for a ragged batch.
///   q            [n_tokens, n_heads, head_dim]
///   k/v_cache    [num_blocks, block_size, n_kv_heads, head_dim]
///   query_start  [n_seqs + 1]: sequence s owns query rows [query_start[s], query_start[s+1])
///   seq_lens     [n_seqs]: context length of s after this step; its q_len queries are the
///                last q_len positions, so query j of s is at position seq_len - q_len + j
///                and sees keys 0 ... that position.
///   block_table  [n_seqs, max_blocks]
///   sliding_window: if > 0, a query at position p sees only keys > p - sliding_window.
///   softcap      if > 0, scores s = scale·q·k become tanh(s / softcap)·softcap (Gemma 2);
///                this runs the portable kernel.
///   sinks        [n_heads] or NULL: per query head, a logit that joins the softmax's
///                denominator with no value row (gpt-oss's attention sinks), so a row's
///                weights sum to less than 1.
///   out          [n_tokens, n_heads, head_dim]
/// Heads are grouped: query head h reads kv head h / (n_heads / n_kv_heads); n_heads must be
/// a multiple of n_kv_heads; head_dim <= 4096. A query that sees no key (only possible
/// with bad seq_lens) gets zeros. Tasks are (query chunk, kv head) pairs over the pool.
void tern_paged_attention(tern_pool *pool, const float *q, const float *k_cache,
                          const float *v_cache, int block_size, int n_heads, int n_kv_heads,
                          int head_dim, int n_seqs, const int32_t *query_start,
                          const int32_t *seq_lens, const int32_t *block_table, int max_blocks,
                          float scale, int sliding_window, float softcap, const float *sinks,
                          float *out);

#ifdef __cplusplus
}
#endif
#endif
