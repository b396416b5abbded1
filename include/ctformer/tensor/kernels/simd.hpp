// Shared SIMD vocabulary for the kernels: simd<T>, the batch of the build's widest architecture,
// and v::, the few operations the kernels use on it. With xsimd (AVX-512, AVX2, SSE, NEON) simd<T>
// is xsimd's batch; where xsimd has no architecture (Cortex-M, or a build that defines
// CTFORMER_SIMD_SCALAR) it is one_lane<T>, a one-element batch with the same interface, so every
// kernel, register blocking included, compiles unchanged into scalar code.
// elementwise() runs a lane-wise operation over a span; its last partial block goes through the
// same vector code on a zero-padded copy, so an element's result never depends on its position,
// the span's length or the vector width's remainder (what makes cached and full forwards agree).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string_view>
#include <type_traits>

#include "../../base/platform.hpp"

#if !defined(CTFORMER_SIMD_SCALAR)
CTFORMER_THIRD_PARTY_BEGIN  // see base/platform.hpp
#include <xsimd/xsimd.hpp>
CTFORMER_THIRD_PARTY_END
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#define CTFORMER_SIMD_SCALAR 1
#endif
#endif

// Kernels are small and hot; make sure they inline into their callers.
#if defined(__GNUC__)
#define CTFORMER_INLINE inline __attribute__((always_inline))
#define CTFORMER_RESTRICT __restrict__
#else
#define CTFORMER_INLINE inline
#define CTFORMER_RESTRICT
#endif

// GCC (12) warns "iteration N invokes undefined behavior" on scalar loops once a kernel is inlined
// with a constant size into a fixed array, and "(may be) used uninitialized" inside its own
// AVX-512 intrinsic headers (the `__m512 __Y = __Y;` idiom of _mm512_undefined_ps) wherever xsimd
// reaches them. These are false positives inside the kernels, so the kernel headers silence exactly
// these between the two macros; user code keeps every warning.
#if defined(__GNUC__) && !defined(__clang__)
#define CTFORMER_KERNELS_BEGIN                                                           \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Waggressive-loop-optimizations\"") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")                            \
          _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define CTFORMER_KERNELS_END _Pragma("GCC diagnostic pop")
#else
#define CTFORMER_KERNELS_BEGIN
#define CTFORMER_KERNELS_END
#endif

namespace ctformer::kernels {

/// A batch of one element with the part of xsimd's batch interface the kernels use.
template <class T>
struct one_lane {
  using value_type = T;  ///< element type
  static constexpr std::size_t size = 1;  ///< lanes per batch (always 1)
  T x;  ///< the one element

  one_lane() = default;
  constexpr one_lane(T v) : x(v) {}  ///< broadcast, as xsimd's batch(T)
  /// Reads one element from p, converted to T.
  template <class U>
  static one_lane load_unaligned(const U* p) { return one_lane(T(*p)); }
  /// Reads one element from p, converted to T (alignment is irrelevant for one lane).
  template <class U>
  static one_lane load_aligned(const U* p) { return one_lane(T(*p)); }
  void store_unaligned(T* p) const { *p = x; }  ///< writes the element to p
  void store_aligned(T* p) const { *p = x; }  ///< writes the element to p

  friend one_lane operator+(one_lane a, one_lane b) { return a.x + b.x; }  ///< elementwise sum
  friend one_lane operator-(one_lane a, one_lane b) { return a.x - b.x; }  ///< elementwise difference
  friend one_lane operator*(one_lane a, one_lane b) { return a.x * b.x; }  ///< elementwise product
  friend one_lane operator/(one_lane a, one_lane b) { return a.x / b.x; }  ///< elementwise quotient
  friend one_lane operator-(one_lane a) { return -a.x; }  ///< negation
  one_lane& operator+=(one_lane b) { x = x + b.x; return *this; }  ///< adds b in place
  one_lane& operator-=(one_lane b) { x = x - b.x; return *this; }  ///< subtracts b in place
  one_lane& operator*=(one_lane b) { x = x * b.x; return *this; }  ///< multiplies by b in place
  friend bool operator>(one_lane a, one_lane b) { return a.x > b.x; }  ///< elementwise greater-than
  friend bool operator<(one_lane a, one_lane b) { return a.x < b.x; }  ///< elementwise less-than
};

#if defined(CTFORMER_SIMD_SCALAR)
template <class T>
using simd = one_lane<T>;
inline std::string_view simd_arch_name() { return "scalar"; }
#else
template <class T>
using simd = xsimd::batch<T, xsimd::default_arch>;
/// Name of the SIMD architecture this translation unit was compiled for ("avx2", "neon64", ...).
inline std::string_view simd_arch_name() { return xsimd::default_arch::name(); }
#endif

template <class T>
inline constexpr std::size_t simd_width = simd<T>::size;

// The operations on batches, spelled once for both kinds of batch. fma is fused on both (std::fma
// rounds once, like the vector instruction), so one_lane builds round like the vector builds.
namespace v {
template <class T>
CTFORMER_INLINE one_lane<T> fma(one_lane<T> a, one_lane<T> b, one_lane<T> c) { return std::fma(a.x, b.x, c.x); }
template <class T>
CTFORMER_INLINE one_lane<T> fms(one_lane<T> a, one_lane<T> b, one_lane<T> c) { return std::fma(a.x, b.x, -c.x); }
template <class T>
CTFORMER_INLINE T hadd(one_lane<T> a) { return a.x; }
template <class T>
CTFORMER_INLINE one_lane<T> max(one_lane<T> a, one_lane<T> b) { return a.x > b.x ? a.x : b.x; }
template <class T>
CTFORMER_INLINE one_lane<T> select(bool c, one_lane<T> a, one_lane<T> b) { return c ? a : b; }
template <class T>
CTFORMER_INLINE one_lane<T> exp(one_lane<T> a) { return std::exp(a.x); }
template <class T>
CTFORMER_INLINE one_lane<T> tanh(one_lane<T> a) { return std::tanh(a.x); }
template <class T>
CTFORMER_INLINE one_lane<T> sqrt(one_lane<T> a) { return std::sqrt(a.x); }

#if !defined(CTFORMER_SIMD_SCALAR)
/// xsimd 8.1 has no AVX-512 kernel for fma / fms: its generic x * y + z is one FMA only where the
/// compiler contracts across inlined calls (GCC does by default, Clang does not), so 512-bit
/// batches call the intrinsics and every compiler rounds once.
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> fma(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b,
                                       const xsimd::batch<T, A>& c) {
#if defined(__AVX512F__)
  if constexpr (sizeof(xsimd::batch<T, A>) == 64 && std::is_same_v<T, float>)
    return _mm512_fmadd_ps(a, b, c);
  else if constexpr (sizeof(xsimd::batch<T, A>) == 64 && std::is_same_v<T, double>)
    return _mm512_fmadd_pd(a, b, c);
  else
#endif
    return xsimd::fma(a, b, c);
}
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> fms(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b,
                                       const xsimd::batch<T, A>& c) {
#if defined(__AVX512F__)
  if constexpr (sizeof(xsimd::batch<T, A>) == 64 && std::is_same_v<T, float>)
    return _mm512_fmsub_ps(a, b, c);
  else if constexpr (sizeof(xsimd::batch<T, A>) == 64 && std::is_same_v<T, double>)
    return _mm512_fmsub_pd(a, b, c);
  else
#endif
    return xsimd::fms(a, b, c);
}
template <class T, class A>
CTFORMER_INLINE T hadd(const xsimd::batch<T, A>& a) { return xsimd::hadd(a); }
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> max(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) {
  return xsimd::max(a, b);
}
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& c, const xsimd::batch<T, A>& a,
                                          const xsimd::batch<T, A>& b) {
  return xsimd::select(c, a, b);
}
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> exp(const xsimd::batch<T, A>& a) { return xsimd::exp(a); }
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> tanh(const xsimd::batch<T, A>& a) { return xsimd::tanh(a); }
template <class T, class A>
CTFORMER_INLINE xsimd::batch<T, A> sqrt(const xsimd::batch<T, A>& a) { return xsimd::sqrt(a); }
#endif
}  // namespace v

/// Spans are walked one batch at a time; the last partial batch is loaded from a padded copy
/// (fill chosen so that the padding cannot change the result: 0 for sums, -inf for maxima) and
/// stored back through one, so the tail runs the same vector code as the body.
template <class T>
CTFORMER_INLINE simd<T> load_n(const T* p, std::size_t count, T fill = T(0)) {
  if constexpr (simd<T>::size == 1) {
    return simd<T>::load_unaligned(p);  // one lane: there is never a partial batch
  } else {
    if (count == simd<T>::size) return simd<T>::load_unaligned(p);
    alignas(64) std::array<T, simd<T>::size> buf;
    buf.fill(fill);
    std::copy(p, p + count, buf.begin());
    return simd<T>::load_aligned(buf.data());
  }
}
template <class T>
CTFORMER_INLINE void store_n(const simd<T>& x, T* p, std::size_t count) {
  if constexpr (simd<T>::size == 1) {
    x.store_unaligned(p);
  } else {
    if (count == simd<T>::size) return x.store_unaligned(p);
    alignas(64) std::array<T, simd<T>::size> buf;
    x.store_aligned(buf.data());
    std::copy(buf.begin(), buf.begin() + count, p);
  }
}
/// f(i, count) for consecutive blocks [i, i + count) of [0, n): count is the width except at the end.
template <class T, class F>
CTFORMER_INLINE void for_each_block(std::size_t n, F&& f) {
  constexpr std::size_t W = simd<T>::size;
  std::size_t i = 0;
  for (; i + W <= n; i += W) f(i, W);
  if (i < n) f(i, n - i);
}

/// y[i] = op(in[i]...) for i in [0, n), one batch at a time. y may alias an input.
template <class T, class Op, class... In>
CTFORMER_INLINE void elementwise(T* y, std::size_t n, Op op, const In*... in) {
  for_each_block<T>(n, [&](std::size_t i, std::size_t count) { store_n<T>(op(load_n<T>(in + i, count)...), y + i, count); });
}

/// Largest lane (NaN lanes are skipped).
template <class T>
CTFORMER_INLINE T hmax(const simd<T>& x) {
  alignas(64) std::array<T, simd<T>::size> lanes;
  x.store_aligned(lanes.data());
  T m = -std::numeric_limits<T>::infinity();
  for (const T l : lanes) m = l > m ? l : m;
  return m;
}

}  // namespace ctformer::kernels
