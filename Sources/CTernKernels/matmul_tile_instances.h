// Every weight type's SIMD matmul kernel, from matmul_tile_template.h, and the dispatch
// from a TERN_* type to its kernel: one list for both ISAs. Included once by matmul_avx2.c
// and matmul_avx512.c inside their target pragma, after their dequantizers (deq_*, elem_*);
// the includer defines
//   TERN_MM_DISPATCH   the dispatch function's name
//   TERN_MM_SCALED     (optional) few-token Q4_0, Q4_1 and Q8_0 rows read each block's
//                      scales as broadcasts (scales_*, deq_*_scaled)
//   TERN_MM_SCALED_Q8_0  (optional) the same for Q8_0 alone

#define TILE_NAME mm_q4_0
#define TILE_DEQ deq_q4_0
#ifdef TERN_MM_SCALED
#define TILE_SCALES scales_q4_0
#define TILE_DEQ_SCALED deq_q4_0_scaled
#endif
#define TILE_GROUPS 1
#define TILE_BV 32
#define TILE_BB 18
#include "matmul_tile_template.h"

#define TILE_NAME mm_q4_1
#define TILE_DEQ deq_q4_1
#ifdef TERN_MM_SCALED
#define TILE_SCALES scales_q4_1
#define TILE_DEQ_SCALED deq_q4_1_scaled
#endif
#define TILE_GROUPS 1
#define TILE_BV 32
#define TILE_BB 20
#include "matmul_tile_template.h"

#define TILE_NAME mm_q5_0
#define TILE_DEQ deq_q5_0
#define TILE_GROUPS 1
#define TILE_BV 32
#define TILE_BB 22
#include "matmul_tile_template.h"

#define TILE_NAME mm_q5_1
#define TILE_DEQ deq_q5_1
#define TILE_GROUPS 1
#define TILE_BV 32
#define TILE_BB 24
#include "matmul_tile_template.h"

#define TILE_NAME mm_q8_0
#define TILE_DEQ deq_q8_0
#if defined(TERN_MM_SCALED) || defined(TERN_MM_SCALED_Q8_0)
#define TILE_SCALES scales_q8_0
#define TILE_DEQ_SCALED deq_q8_0_scaled
#endif
#define TILE_GROUPS 1
#define TILE_BV 32
#define TILE_BB 34
#include "matmul_tile_template.h"

#define TILE_NAME mm_q4_k
#define TILE_DEQ deq_q4_k
#define TILE_GROUPS 8
#define TILE_BV 256
#define TILE_BB 144
#include "matmul_tile_template.h"

#define TILE_NAME mm_q5_k
#define TILE_DEQ deq_q5_k
#define TILE_GROUPS 8
#define TILE_BV 256
#define TILE_BB 176
#include "matmul_tile_template.h"

#define TILE_NAME mm_q6_k
#define TILE_DEQ deq_q6_k
#define TILE_GROUPS 8
#define TILE_BV 256
#define TILE_BB 210
#include "matmul_tile_template.h"

#define TILE_NAME mm_f32
#define TILE_DEQ deq_f32
#define TILE_ELEM elem_f32
#define TILE_GROUPS 1
#define TILE_BV 32
#define TILE_BB 128
#include "matmul_tile_template.h"

#define TILE_NAME mm_f16
#define TILE_DEQ deq_f16
#define TILE_ELEM elem_f16
#define TILE_GROUPS 1
#define TILE_BV 32
#define TILE_BB 64
#include "matmul_tile_template.h"

#define TILE_NAME mm_bf16
#define TILE_DEQ deq_bf16
#define TILE_ELEM elem_bf16
#define TILE_GROUPS 1
#define TILE_BV 32
#define TILE_BB 64
#include "matmul_tile_template.h"

tern_mm_kernel TERN_MM_DISPATCH(int wtype) {
    switch (wtype) {
    case TERN_F32: return mm_f32;
    case TERN_F16: return mm_f16;
    case TERN_BF16: return mm_bf16;
    case TERN_Q4_0: return mm_q4_0;
    case TERN_Q4_1: return mm_q4_1;
    case TERN_Q5_0: return mm_q5_0;
    case TERN_Q5_1: return mm_q5_1;
    case TERN_Q8_0: return mm_q8_0;
    case TERN_Q4_K: return mm_q4_k;
    case TERN_Q5_K: return mm_q5_k;
    case TERN_Q6_K: return mm_q6_k;
    default: return NULL;
    }
}
