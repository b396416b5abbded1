// Shared xsimd vocabulary for the kernels: the batch type of the build's widest architecture,
// and the architecture's name for benchmark and test reports. Kernels use only xsimd's generic
// batch API, so one source serves AVX-512, AVX2, SSE and NEON.
#pragma once

#include <cstddef>
#include <string_view>

#include <xsimd/xsimd.hpp>

// Kernels are small and hot; make sure they inline into their callers.
#if defined(__GNUC__)
#define CTFORMER_INLINE inline __attribute__((always_inline))
#define CTFORMER_RESTRICT __restrict__
#else
#define CTFORMER_INLINE inline
#define CTFORMER_RESTRICT
#endif

// GCC (12) warns "iteration N invokes undefined behavior" on the scalar tail loops once a kernel
// is inlined with a constant size into a fixed array: the tails never run past n, so the kernel
// headers silence that one diagnostic between these two macros.
#if defined(__GNUC__) && !defined(__clang__)
#define CTFORMER_KERNELS_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Waggressive-loop-optimizations\"")
#define CTFORMER_KERNELS_END _Pragma("GCC diagnostic pop")
#else
#define CTFORMER_KERNELS_BEGIN
#define CTFORMER_KERNELS_END
#endif

namespace ctformer::kernels {

template <class T>
using simd = xsimd::batch<T, xsimd::default_arch>;

template <class T>
inline constexpr std::size_t simd_width = simd<T>::size;

// Name of the SIMD architecture this translation unit was compiled for ("avx2", "neon64", ...).
inline std::string_view simd_arch_name() { return xsimd::default_arch::name(); }

}  // namespace ctformer::kernels
