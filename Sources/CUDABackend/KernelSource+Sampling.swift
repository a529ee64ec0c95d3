extension KernelSource {
    /// Sampling on the device, so that a step sends back token ids instead of logits.
    static let sampling = #"""
__device__ __forceinline__ unsigned long long tern_mix64(unsigned long long z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// ids [R] i32, one per logits row [R, vocab] f32: the argmax where temperatures[r] is 0, else
// a draw from softmax(logits / temperature) by the Gumbel-max trick, argmax(logit / T + g)
// with g = -log(-log u) and u uniform in (0, 1) from the row's 64-bit key and the token id
// (the same key gives the same draw). Ties go to the lowest id. grid R, block 1024.
extern "C" __global__ void tern_sample(const float *logits, int vocab, const float *temperatures,
                                       const unsigned long long *keys, int *ids) {
    __shared__ float best_value[1024];
    __shared__ int best_index[1024];
    const float *row = logits + (long long)blockIdx.x * vocab;
    const float temperature = temperatures[blockIdx.x];
    const unsigned long long key = keys[blockIdx.x];
    float value = -INFINITY;
    int index = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float v = row[i];
        if (temperature > 0.0f) {
            const float u = ((float)(tern_mix64(key ^ tern_mix64((unsigned long long)i)) >> 40) + 0.5f)
                            * (1.0f / 16777216.0f);
            v = v / temperature - logf(-logf(u));
        }
        if (v > value) { value = v; index = i; }
    }
    best_value[threadIdx.x] = value;
    best_index[threadIdx.x] = index;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) {
            const float v = best_value[threadIdx.x + stride];
            const int j = best_index[threadIdx.x + stride];
            if (v > best_value[threadIdx.x] || (v == best_value[threadIdx.x] && j < best_index[threadIdx.x])) {
                best_value[threadIdx.x] = v;
                best_index[threadIdx.x] = j;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) ids[blockIdx.x] = best_index[0] == 0x7fffffff ? 0 : best_index[0];
}

"""#
}
