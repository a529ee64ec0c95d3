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

// Step 1 of sampling logits rows [R, vocab] f32: block (r, s) finds the best-scoring token of
// slice s of row r and leaves it in candidates [R, slices] (score f32, id i32).
// grid (R, slices), block 256.
extern "C" __global__ void __launch_bounds__(256) tern_sample(
        const float *logits, int vocab, const float *temperatures, const unsigned long long *keys,
        float *candidate_values, int *candidate_ids) {
    tern_grid_dependency();
    __shared__ float warp_value[8];
    __shared__ int warp_index[8];
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
    tern_sample_reduce_warp(value, index);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { warp_value[warp] = value; warp_index[warp] = index; }
    __syncthreads();
    if (warp == 0) {
        value = lane < (blockDim.x >> 5) ? warp_value[lane] : -INFINITY;
        index = lane < (blockDim.x >> 5) ? warp_index[lane] : 0x7fffffff;
        tern_sample_reduce_warp(value, index);
        if (lane == 0) {
            candidate_values[r * slices + slice] = value;
            candidate_ids[r * slices + slice] = index;
        }
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

"""#
}
