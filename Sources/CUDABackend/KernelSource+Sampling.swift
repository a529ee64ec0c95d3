extension KernelSource {
    /// Sampling on the device, so that a step sends back token ids instead of logits.
    static let sampling = #"""
__device__ __forceinline__ unsigned long long tern_mix64(unsigned long long z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// The score a row's token is sampled by: the logit where temperature is 0 (argmax), else
// logit / T + g with g = -log(-log u) and u uniform in (0, 1) from the row's 64-bit key and the
// token id (the Gumbel-max trick: the argmax is a draw from softmax(logits / T), and the same
// key gives the same draw).
__device__ __forceinline__ float tern_sample_score(float logit, float temperature, unsigned long long key, int i) {
    if (temperature <= 0.0f) return logit;
    const float u = ((float)(tern_mix64(key ^ tern_mix64((unsigned long long)i)) >> 40) + 0.5f) * (1.0f / 16777216.0f);
    return logit / temperature - logf(-logf(u));
}

// The better of two (score, id) candidates: the higher score, ties to the lower id.
__device__ __forceinline__ void tern_sample_pick(float &value, int &index, float v, int j) {
    if (v > value || (v == value && j < index)) { value = v; index = j; }
}

__device__ __forceinline__ void tern_sample_reduce_warp(float &value, int &index) {
    for (int o = 16; o > 0; o >>= 1) {
        const float v = __shfl_xor_sync(0xffffffffu, value, o);
        const int j = __shfl_xor_sync(0xffffffffu, index, o);
        tern_sample_pick(value, index, v, j);
    }
}

// The block's best candidate: true in thread 0, which holds it in (value, index).
__device__ __forceinline__ bool tern_sample_reduce_block(float &value, int &index) {
    __shared__ float warp_value[32];
    __shared__ int warp_index[32];
    tern_sample_reduce_warp(value, index);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { warp_value[warp] = value; warp_index[warp] = index; }
    __syncthreads();
    if (warp != 0) return false;
    value = lane < (blockDim.x >> 5) ? warp_value[lane] : -INFINITY;
    index = lane < (blockDim.x >> 5) ? warp_index[lane] : 0x7fffffff;
    tern_sample_reduce_warp(value, index);
    return lane == 0;
}

// Step 1 of sampling logits rows [R, vocab] f32: block (r, s) finds the best-scoring token of
// slice s of row r and leaves it in candidates [R, slices] (score f32, id i32).
// grid (R, slices), block 256.
extern "C" __global__ void __launch_bounds__(256) tern_sample(
        const float *logits, int vocab, const float *temperatures, const unsigned long long *keys,
        float *candidate_values, int *candidate_ids) {
    tern_grid_dependency();
    const int r = blockIdx.x, slice = blockIdx.y, slices = gridDim.y;
    const float *row = logits + (long long)r * vocab;
    const float temperature = temperatures[r];
    const unsigned long long key = keys[r];
    const int per_slice = (vocab + slices - 1) / slices;
    const int begin = slice * per_slice, end = min(vocab, begin + per_slice);
    float value = -INFINITY;
    int index = 0x7fffffff;
    for (int i = begin + threadIdx.x; i < end; i += blockDim.x)
        tern_sample_pick(value, index, tern_sample_score(row[i], temperature, key, i), i);
    if (tern_sample_reduce_block(value, index)) {
        candidate_values[r * slices + slice] = value;
        candidate_ids[r * slices + slice] = index;
    }
}

// Step 2: ids [R] i32, the best of each row's candidates (0 if every score was NaN or -inf).
// grid R, block 32; slices <= 32.
extern "C" __global__ void tern_sample_finish(const float *candidate_values, const int *candidate_ids, int slices,
                                              int *ids) {
    tern_grid_dependency();
    const int r = blockIdx.x, lane = threadIdx.x;
    float value = lane < slices ? candidate_values[r * slices + lane] : -INFINITY;
    int index = lane < slices ? candidate_ids[r * slices + lane] : 0x7fffffff;
    tern_sample_reduce_warp(value, index);
    if (lane == 0) ids[r] = index == 0x7fffffff ? 0 : index;
}

// Logit processors on the device, for entry e of [count]: logits[rows[e], tokens[e]] gets
// + values[3e] (logit bias), then -inf where masks[e] (min_tokens keeps EOS and stop tokens
// out), then the repetition penalty values[3e + 1] (a positive logit divided by it, a negative
// one multiplied), then - values[3e + 2] (presence and frequency penalties): the host
// sampler's order. A (row, token) pair appears once. grid ceil(count / 256), block 256.
extern "C" __global__ void tern_adjust_logits(float *logits, int vocab, const int *rows, const int *tokens,
                                              const float *values, const int *masks, int count) {
    tern_grid_dependency();
    const int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= count) return;
    float *logit = logits + (long long)rows[e] * vocab + tokens[e];
    float v = *logit + values[3 * e];
    if (masks[e]) v = -INFINITY;
    const float repetition = values[3 * e + 1];
    if (repetition != 1.0f) v = v > 0.0f ? v / repetition : v * repetition;
    *logit = v - values[3 * e + 2];
}

// Structured-output masks: entry m of [masked] keeps, in row mask_rows[m] of logits
// [R, vocab] f32, the tokens whose bit is set in masks [masked, words] u32 (bit t % 32 of word
// t / 32) and sets every other logit to -inf. Runs after tern_adjust_logits, before sampling.
// grid (ceil(vocab / 256), masked), block 256.
extern "C" __global__ void tern_apply_token_mask(float *logits, int vocab, const int *mask_rows,
                                                 const unsigned int *masks, int words) {
    tern_grid_dependency();
    const int m = blockIdx.y;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= vocab) return;
    const unsigned int word = masks[(long long)m * words + (i >> 5)];
    if (!((word >> (i & 31)) & 1u)) logits[(long long)mask_rows[m] * vocab + i] = -INFINITY;
}

// Going down from `top`, the value at which the count of the scaled logits s = row[i] *
// inverse in [floor, top] (weighted: the sum of round(2^24 exp(s - top))) first reaches
// `target`; -inf if it never does. Four passes narrow [floor, top] by 256 linear bins each,
// to a bin of (top - floor) / 2^32, and the bin's lower edge is returned (ties with the value
// found are kept). Lanes of a warp that hit the same bin add to it once (match + reduce), so
// a crowded bin does not serialise the block on one shared-memory address. Integer sums, so
// the result does not depend on thread timing. Every thread of the block calls it.
__device__ float tern_threshold_search(const float *row, int vocab, float inverse, float floor, float top,
                                       bool weighted, unsigned long long target, unsigned long long *histogram) {
    __shared__ float range_low, range_high;
    __shared__ unsigned long long left;
    __shared__ int found;
    if (threadIdx.x == 0) {
        range_low = floor;
        range_high = top;
        left = target;
        found = 1;
    }
    __syncthreads();
    for (int pass = 0; pass < 4; ++pass) {
        const float low = range_low, high = range_high;
        const float width = (high - low) * (1.0f / 256.0f);
        if (!(width > 0.0f)) break;
        for (int b = threadIdx.x; b < 256; b += blockDim.x) histogram[b] = 0ull;
        __syncthreads();
        for (int base = 0; base < vocab; base += blockDim.x) {
            const int i = base + threadIdx.x;
            const float s = i < vocab ? row[i] * inverse : -INFINITY;
            const bool inside = s >= low && s <= high;
            const unsigned int bin = inside ? min(255u, (unsigned int)((high - s) / width)) : 256u;
            const unsigned int w = !inside ? 0u : weighted ? (unsigned int)(__expf(s - top) * 16777216.0f) : 1u;
            const unsigned int same = __match_any_sync(0xffffffffu, bin);
            const unsigned int total = __reduce_add_sync(same, w);
            if (inside && (threadIdx.x & 31) == __ffs(same) - 1) atomicAdd(histogram + bin, (unsigned long long)total);
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            unsigned long long remaining = left;
            int chosen = -1;
            for (int b = 0; b < 256; ++b) {
                if (remaining <= histogram[b]) { chosen = b; break; }
                remaining -= histogram[b];
            }
            if (chosen < 0) {
                found = 0;
            } else {
                left = remaining;
                range_high = high - (float)chosen * width;
                range_low = fmaxf(low, high - (float)(chosen + 1) * width);
            }
        }
        __syncthreads();
        if (!found) break;
    }
    const float result = found ? range_low : -INFINITY;
    __syncthreads();
    return result;
}

// ids [R] i32 with the host sampler's filters: the argmax where temperatures[r] is 0; else,
// over s = logit / T, the tokens within 30 of the best (the rest have negligible
// probability), then top_ks[r] (0: off), top_ps[r] (1: off) over the softmax of what top-k
// kept, and min_ps[r] (0: off) relative to the best, and a Gumbel-max draw among the kept
// tokens keyed as tern_sample's (the same key gives the same draw). Ties at a threshold keep
// every tied token. grid R, block 1024.
extern "C" __global__ void __launch_bounds__(1024) tern_sample_filtered(
        const float *logits, int vocab, const float *temperatures, const unsigned long long *keys,
        const int *top_ks, const float *top_ps, const float *min_ps, int *ids) {
    tern_grid_dependency();
    __shared__ float scratch[32];
    __shared__ unsigned long long histogram[256];
    __shared__ unsigned long long mass;
    const int r = blockIdx.x;
    const float *row = logits + (long long)r * vocab;
    const float temperature = temperatures[r];
    const bool greedy = temperature <= 0.0f;
    const float inverse = greedy ? 1.0f : 1.0f / temperature;
    float threshold = -INFINITY;
    if (!greedy) {
        float local = -INFINITY;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) local = fmaxf(local, row[i] * inverse);
        const float top = block_reduce(local, scratch, true);
        threshold = top - 30.0f;
        const int top_k = top_ks[r];
        if (top_k > 0 && top_k < vocab)
            threshold = fmaxf(threshold, tern_threshold_search(row, vocab, inverse, threshold, top, false,
                                                              (unsigned long long)top_k, histogram));
        const float top_p = top_ps[r];
        if (top_p < 1.0f) {
            if (threadIdx.x == 0) mass = 0ull;
            __syncthreads();
            unsigned long long sum = 0ull;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                const float s = row[i] * inverse;
                if (s >= threshold) sum += (unsigned long long)(__expf(s - top) * 16777216.0f);
            }
            atomicAdd(&mass, sum);
            __syncthreads();
            const unsigned long long wanted = (unsigned long long)ceilf((float)mass * top_p);
            threshold = fmaxf(threshold, tern_threshold_search(row, vocab, inverse, threshold, top, true,
                                                              wanted > 0ull ? wanted : 1ull, histogram));
        }
        const float min_p = min_ps[r];
        if (min_p > 0.0f) threshold = fmaxf(threshold, top + logf(min_p));
    }
    const unsigned long long key = keys[r];
    float value = -INFINITY;
    int index = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        const float logit = row[i];
        if (greedy) {
            tern_sample_pick(value, index, logit, i);
        } else if (logit * inverse >= threshold && logit > -INFINITY) {
            tern_sample_pick(value, index, tern_sample_score(logit, temperature, key, i), i);
        }
    }
    if (tern_sample_reduce_block(value, index)) ids[r] = index == 0x7fffffff ? 0 : index;
}

"""#
}
