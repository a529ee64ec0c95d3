// Rotary position embedding. The angle position · inv_freq is formed and its cos/sin taken
// in double: at position 131072 a float angle is off by up to ~4e-3 rad, far beyond the
// 1e-5 agreement with a float64 reference that long contexts need. The cos/sin of a
// token are computed once (in pieces of PAIRS) and applied to all its heads.
#include "tern_internal.h"

enum { PAIRS = 64 };

void tern_rope(float *x, int64_t n_tokens, int n_heads, int head_dim, int rot_dim,
               const int32_t *positions, const float *inv_freq, int neox) {
    const int half = rot_dim / 2;
    float cs[PAIRS], sn[PAIRS];
    for (int64_t t = 0; t < n_tokens; t++) {
        const double pos = (double)positions[t];
        float *xt = x + t * (int64_t)n_heads * head_dim;
        for (int p0 = 0; p0 < half; p0 += PAIRS) {
            const int np = half - p0 < PAIRS ? half - p0 : PAIRS;
            for (int i = 0; i < np; i++) {
                const double angle = pos * (double)inv_freq[p0 + i];
                cs[i] = (float)cos(angle);
                sn[i] = (float)sin(angle);
            }
            for (int h = 0; h < n_heads; h++) {
                float *xh = xt + (int64_t)h * head_dim;
                for (int i = 0; i < np; i++) {
                    // neox: pair (i, i + half); interleaved: pair (2i, 2i + 1).
                    const int a = neox ? p0 + i : 2 * (p0 + i);
                    const int b = neox ? p0 + i + half : 2 * (p0 + i) + 1;
                    const float x0 = xh[a], x1 = xh[b];
                    xh[a] = x0 * cs[i] - x1 * sn[i];
                    xh[b] = x0 * sn[i] + x1 * cs[i];
                }
            }
        }
    }
}
