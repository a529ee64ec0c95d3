// Elementwise ops of a transformer layer. They touch each value once, so they are
// bandwidth-bound and the portable loops (vectorized by the compiler) are enough, except
// the gated activations (SiLU, tanh GELU) whose exp would cost more than the FFN matmul's
// own work at decode: they have AVX2 and AVX-512 versions with a vector exp. Both are
// g · sigmoid(z): z = g for SiLU, z = 2·√(2/π)·(g + 0.044715·g³) for the tanh GELU, since
// 0.5·(1 + tanh(y)) = sigmoid(2y).
#include "tern_internal.h"

#include "simd_math.h"

void tern_rmsnorm(const float *x, const float *w, float *y, int64_t n_tokens, int64_t dim,
                  float eps, float weight_offset) {
    for (int64_t t = 0; t < n_tokens; t++) {
        const float *xt = x + t * dim;
        float *yt = y + t * dim;
        // Four double partial sums: exact enough for any dim, and still vectorizable.
        double s[4] = {0, 0, 0, 0};
        int64_t i = 0;
        for (; i + 4 <= dim; i += 4)
            for (int k = 0; k < 4; k++) s[k] += (double)xt[i + k] * (double)xt[i + k];
        for (; i < dim; i++) s[0] += (double)xt[i] * (double)xt[i];
        const double mean = ((s[0] + s[1]) + (s[2] + s[3])) / (double)dim;
        const float inv = (float)(1.0 / sqrt(mean + (double)eps));
        for (int64_t j = 0; j < dim; j++) yt[j] = xt[j] * inv * (w[j] + weight_offset);
    }
}

static void silu_mul_scalar(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void tern_silu_mul(float *gate, const float *up, int64_t n) {
#if defined(__x86_64__)
    switch (tern_active_isa()) {
    case TERN_ISA_AVX512: tern_silu_mul_avx512(gate, up, n); return;
    case TERN_ISA_AVX2: tern_silu_mul_avx2(gate, up, n); return;
    case TERN_ISA_SCALAR: break;
    }
#endif
    silu_mul_scalar(gate, up, n);
}

void tern_clamped_swiglu_mul(float *gate, const float *up, int64_t n, float alpha, float limit) {
    // Scalar: it runs on the routed rows of expert_dim columns, a small fraction of the
    // experts' matmuls around it.
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i] < limit ? gate[i] : limit;
        const float u = up[i] < -limit ? -limit : up[i] > limit ? limit : up[i];
        gate[i] = (u + 1.0f) * (g * (1.0f / (1.0f + expf(-(g * alpha)))));
    }
}

// PyTorch's constants of the tanh GELU (aten/src/ATen/native/cpu/Activation.cpp).
#define GELU_BETA 0.7978845608028654f  // √(2/π)
#define GELU_KAPPA 0.044715f

/// As PyTorch computes it on the CPU, in float.
static void gelu_tanh_mul_scalar(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        const float inner = GELU_BETA * (g + GELU_KAPPA * g * g * g);
        gate[i] = 0.5f * g * (1.0f + tanhf(inner)) * up[i];
    }
}

void tern_gelu_tanh_mul(float *gate, const float *up, int64_t n) {
#if defined(__x86_64__)
    switch (tern_active_isa()) {
    case TERN_ISA_AVX512: tern_gelu_tanh_mul_avx512(gate, up, n); return;
    case TERN_ISA_AVX2: tern_gelu_tanh_mul_avx2(gate, up, n); return;
    case TERN_ISA_SCALAR: break;
    }
#endif
    gelu_tanh_mul_scalar(gate, up, n);
}

void tern_add(float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

void tern_add_scaled(float *x, const float *y, int64_t n, float s) {
    for (int64_t i = 0; i < n; i++) x[i] += s * y[i];
}

void tern_scale(float *x, int64_t n, float s) {
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}

void tern_softcap(float *x, int64_t n, float cap) {
    for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i] / cap) * cap;
}

#if defined(__x86_64__)
/// gate[i] = g · sigmoid(z) · up[i], z = g (gelu == 0) or the tanh GELU's 2y (gelu != 0).
__attribute__((target(TERN_TARGET_AVX512))) static inline void sigmoid_gate_avx512(float *gate, const float *up,
                                                                                 int64_t n, int gelu) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 beta2 = _mm512_set1_ps(2.0f * GELU_BETA), kappa = _mm512_set1_ps(GELU_KAPPA);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        const __m512 u = _mm512_maskz_loadu_ps(m, up + i);
        const __m512 z = gelu ? _mm512_mul_ps(beta2, _mm512_fmadd_ps(_mm512_mul_ps(kappa, g), _mm512_mul_ps(g, g), g))
                              : g;
        const __m512 e = tern_exp512(_mm512_sub_ps(_mm512_setzero_ps(), z));
        const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(s, u));
    }
}

__attribute__((target(TERN_TARGET_AVX2))) static inline int64_t sigmoid_gate_avx2(float *gate, const float *up,
                                                                                int64_t n, int gelu) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 beta2 = _mm256_set1_ps(2.0f * GELU_BETA), kappa = _mm256_set1_ps(GELU_KAPPA);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 z = gelu ? _mm256_mul_ps(beta2, _mm256_fmadd_ps(_mm256_mul_ps(kappa, g), _mm256_mul_ps(g, g), g))
                              : g;
        const __m256 e = tern_exp256(_mm256_sub_ps(_mm256_setzero_ps(), z));
        const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    return i;
}

__attribute__((target(TERN_TARGET_AVX512))) void tern_silu_mul_avx512(float *gate, const float *up, int64_t n) {
    sigmoid_gate_avx512(gate, up, n, 0);
}

__attribute__((target(TERN_TARGET_AVX512))) void tern_gelu_tanh_mul_avx512(float *gate, const float *up, int64_t n) {
    sigmoid_gate_avx512(gate, up, n, 1);
}

__attribute__((target(TERN_TARGET_AVX2))) void tern_silu_mul_avx2(float *gate, const float *up, int64_t n) {
    const int64_t done = sigmoid_gate_avx2(gate, up, n, 0);
    silu_mul_scalar(gate + done, up + done, n - done);
}

__attribute__((target(TERN_TARGET_AVX2))) void tern_gelu_tanh_mul_avx2(float *gate, const float *up, int64_t n) {
    const int64_t done = sigmoid_gate_avx2(gate, up, n, 1);
    gelu_tanh_mul_scalar(gate + done, up + done, n - done);
}
#endif

// ---- sampling candidates ------------------------------------------------------------------
// A draw over a whole vocabulary (262,144 tokens for Gemma 3) walks every logit once; with
// libm's exp per token that walk cost more than Gemma 3 270M's forward pass's last quarter.

static int64_t candidates_scalar(const float *logits, int64_t n, float cutoff, float top, int32_t *order,
                                 float *weights, int64_t i, int64_t kept) {
    for (; i < n; i++) {
        const float v = logits[i];
        if (v >= cutoff && v > -INFINITY) {
            order[kept] = (int32_t)i;
            if (weights) weights[kept] = expf(v - top);
            kept++;
        }
    }
    return kept;
}

#if defined(__x86_64__)
__attribute__((target(TERN_TARGET_AVX2))) static int64_t candidates_avx2(const float *logits, int64_t n, float cutoff,
                                                                         float top, int32_t *order, float *weights) {
    const __m256 cut = _mm256_set1_ps(cutoff), shift = _mm256_set1_ps(top), ninf = _mm256_set1_ps(-INFINITY);
    int64_t kept = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(logits + i);
        const int mask = _mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps(v, cut, _CMP_GE_OQ),
                                                          _mm256_cmp_ps(v, ninf, _CMP_GT_OQ)));
        if (mask == 0) continue;
        float e[8];
        if (weights) _mm256_storeu_ps(e, tern_exp256(_mm256_sub_ps(v, shift)));
        for (int k = 0; k < 8; k++) {
            if (!(mask >> k & 1)) continue;
            order[kept] = (int32_t)(i + k);
            if (weights) weights[kept] = e[k];
            kept++;
        }
    }
    return candidates_scalar(logits, n, cutoff, top, order, weights, i, kept);
}
#endif

int64_t tern_sampling_candidates(const float *logits, int64_t n, float cutoff, float top, int32_t *order,
                                 float *weights) {
#if defined(__x86_64__)
    if (tern_active_isa() != TERN_ISA_SCALAR) return candidates_avx2(logits, n, cutoff, top, order, weights);
#endif
    return candidates_scalar(logits, n, cutoff, top, order, weights, 0, 0);
}
