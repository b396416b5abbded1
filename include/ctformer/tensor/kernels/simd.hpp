// Shared xsimd vocabulary for the kernels: the batch type of the build's widest architecture,
// fused multiply-adds that are fused on every compiler, and the architecture's name for benchmark
// and test reports. Kernels use only xsimd's generic batch API and these, so one source serves
// AVX-512, AVX2, SSE and NEON.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

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

// x * y + z and x * y - z, rounded once. Kernels use these, not xsimd::fma / fms: xsimd 8.1 has no
// AVX-512 kernel for them, and its generic x * y + z is a single FMA only where the compiler
// contracts across inlined calls (GCC does by default, Clang does not). Under Clang a kernel's
// SIMD body then rounded twice while its std::fma tail rounded once, and results depended on
// which path an element took (the KV cache's logits stopped matching the full forward's).
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> fmadd(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y,
                                         const xsimd::batch<T, A>& z) noexcept {
#if defined(__AVX512F__)
  if constexpr (sizeof(xsimd::batch<T, A>) == 64 && std::is_same_v<T, float>)
    return _mm512_fmadd_ps(x, y, z);
  else if constexpr (sizeof(xsimd::batch<T, A>) == 64 && std::is_same_v<T, double>)
    return _mm512_fmadd_pd(x, y, z);
  else
#endif
    return xsimd::fma(x, y, z);
}
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> fmsub(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y,
                                         const xsimd::batch<T, A>& z) noexcept {
#if defined(__AVX512F__)
  if constexpr (sizeof(xsimd::batch<T, A>) == 64 && std::is_same_v<T, float>)
    return _mm512_fmsub_ps(x, y, z);
  else if constexpr (sizeof(xsimd::batch<T, A>) == 64 && std::is_same_v<T, double>)
    return _mm512_fmsub_pd(x, y, z);
  else
#endif
    return xsimd::fms(x, y, z);
}

// Name of the SIMD architecture this translation unit was compiled for ("avx2", "neon64", ...).
inline std::string_view simd_arch_name() { return xsimd::default_arch::name(); }

}  // namespace ctformer::kernels
