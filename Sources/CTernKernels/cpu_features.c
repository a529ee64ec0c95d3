// Run-time CPU feature detection. The C target is built for baseline x86-64, so every
// AVX2 / AVX-512 kernel is chosen here, from cpuid and from the registers the OS saves
// (xgetbv): a CPU may have AVX-512 while the kernel does not enable its state.
#include "tern_internal.h"

#include <stdatomic.h>

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int detect_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int has_osxsave = (c >> 27) & 1, has_avx = (c >> 28) & 1;
    const int has_fma = (c >> 12) & 1, has_f16c = (c >> 29) & 1;
    if (!has_osxsave || !has_avx) return 0;

    const uint64_t xcr0 = read_xcr0();
    const int os_avx = (xcr0 & 0x6) == 0x6;           // XMM and YMM state
    const int os_avx512 = (xcr0 & 0xe6) == 0xe6;      // plus opmask, ZMM_Hi256, Hi16_ZMM
    if (!os_avx) return 0;

    int features = 0;
    if (has_fma) features |= TERN_CPU_FMA;
    if (has_f16c) features |= TERN_CPU_F16C;

    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7) return features;
    __cpuid_count(7, 0, a, b, c, d);
    if ((b >> 5) & 1) features |= TERN_CPU_AVX2;
    if (os_avx512) {
        if ((b >> 16) & 1) features |= TERN_CPU_AVX512F;
        if ((b >> 30) & 1) features |= TERN_CPU_AVX512BW;
        if ((b >> 31) & 1) features |= TERN_CPU_AVX512VL;
        if ((c >> 11) & 1) features |= TERN_CPU_AVX512VNNI;
    }
    const unsigned max_sub = a;
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        if ((a >> 4) & 1) features |= TERN_CPU_AVXVNNI;
        if (os_avx512 && ((a >> 5) & 1)) features |= TERN_CPU_AVX512BF16;
    }
    return features;
}
#else
static int detect_features(void) { return 0; }
#endif

// -1: not yet detected. Detection is idempotent, so a race only repeats it.
static _Atomic int detected = -1;
static _Atomic int feature_mask = -1;

int tern_cpu_features(void) {
    int f = atomic_load_explicit(&detected, memory_order_relaxed);
    if (f < 0) {
        f = detect_features();
        atomic_store_explicit(&detected, f, memory_order_relaxed);
    }
    return f;
}

void tern_set_cpu_features_mask(int mask) {
    atomic_store_explicit(&feature_mask, mask, memory_order_relaxed);
}

tern_isa tern_active_isa(void) {
    const int f = tern_cpu_features() & atomic_load_explicit(&feature_mask, memory_order_relaxed);
    const int avx2 = TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C;
    if ((f & avx2) != avx2) return TERN_ISA_SCALAR;
    const int avx512 = TERN_CPU_AVX512F | TERN_CPU_AVX512BW | TERN_CPU_AVX512VL;
    if ((f & avx512) == avx512) return TERN_ISA_AVX512;
    return TERN_ISA_AVX2;
}

int tern_vnni_active(void) {
    const int f = tern_cpu_features() & atomic_load_explicit(&feature_mask, memory_order_relaxed);
    return tern_active_isa() == TERN_ISA_AVX512 && (f & TERN_CPU_AVX512VNNI) != 0;
}
