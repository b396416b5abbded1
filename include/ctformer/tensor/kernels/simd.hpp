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

namespace ctformer::kernels {

template <class T>
using simd = xsimd::batch<T, xsimd::default_arch>;

template <class T>
inline constexpr std::size_t simd_width = simd<T>::size;

// Name of the SIMD architecture this translation unit was compiled for ("avx2", "neon64", ...).
inline std::string_view simd_arch_name() { return xsimd::default_arch::name(); }

}  // namespace ctformer::kernels
