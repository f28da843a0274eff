#pragma once
// Hand-written kernels of nn/ are built for three x86-64 levels and picked at load time (GCC's
// target_clones): the project builds for baseline x86-64, where their loops would get 4-wide SSE2
// only.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SUBSET_SIMD_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define SUBSET_SIMD_CLONES
#endif
