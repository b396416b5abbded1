// Reductions over a flat span: sum, max, sum of squares and dot product, plus the elementwise
// helpers the layers and optimizers share (add, axpy, scale). Sums use W independent lanes
// combined in a fixed order, so results depend only on n, never on the thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "simd.hpp"

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

template <class T>
T sum(const T* x, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  B acc0(T(0)), acc1(T(0));
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    acc0 += B::load_unaligned(x + i);
    acc1 += B::load_unaligned(x + i + W);
  }
  for (; i + W <= n; i += W) acc0 += B::load_unaligned(x + i);
  T s = xsimd::hadd(acc0 + acc1);
  for (; i < n; ++i) s += x[i];
  return s;
}

// Maximum of x[0:n); -infinity for n == 0. NaN entries are skipped.
template <class T>
T max(const T* x, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  T m = -std::numeric_limits<T>::infinity();
  std::size_t i = 0;
  if (n >= W) {
    B acc(m);
    for (; i + W <= n; i += W) {
      const B v = B::load_unaligned(x + i);
      acc = xsimd::select(v > acc, v, acc);
    }
    alignas(64) T lanes[W];
    acc.store_aligned(lanes);
    for (std::size_t l = 0; l < W; ++l) m = lanes[l] > m ? lanes[l] : m;
  }
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

template <class T>
T dot(const T* x, const T* y, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  B acc0(T(0)), acc1(T(0));
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    acc0 = fmadd(B::load_unaligned(x + i), B::load_unaligned(y + i), acc0);
    acc1 = fmadd(B::load_unaligned(x + i + W), B::load_unaligned(y + i + W), acc1);
  }
  for (; i + W <= n; i += W) acc0 = fmadd(B::load_unaligned(x + i), B::load_unaligned(y + i), acc0);
  T s = xsimd::hadd(acc0 + acc1);
  for (; i < n; ++i) s += x[i] * y[i];
  return s;
}

template <class T>
T sum_squares(const T* x, std::size_t n) {
  return dot(x, x, n);
}

// y = a + b (y may alias a or b).
template <class T>
void add(T* y, const T* a, const T* b, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  std::size_t i = 0;
  for (; i + W <= n; i += W) (B::load_unaligned(a + i) + B::load_unaligned(b + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = a[i] + b[i];
}

// y += alpha * x
template <class T>
void axpy(T* CTFORMER_RESTRICT y, T alpha, const T* CTFORMER_RESTRICT x, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  const B va(alpha);
  std::size_t i = 0;
  for (; i + W <= n; i += W) fmadd(va, B::load_unaligned(x + i), B::load_unaligned(y + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// x *= alpha
template <class T>
void scale(T* x, T alpha, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  const B va(alpha);
  std::size_t i = 0;
  for (; i + W <= n; i += W) (B::load_unaligned(x + i) * va).store_unaligned(x + i);
  for (; i < n; ++i) x[i] *= alpha;
}

namespace scalar {
template <class T>
T sum(const T* x, std::size_t n) {
  T s = 0;
  for (std::size_t i = 0; i < n; ++i) s += x[i];
  return s;
}
template <class T>
T max(const T* x, std::size_t n) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::size_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}
template <class T>
T dot(const T* x, const T* y, std::size_t n) {
  T s = 0;
  for (std::size_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}
template <class T>
T sum_squares(const T* x, std::size_t n) {
  return dot(x, x, n);
}
template <class T>
void add(T* y, const T* a, const T* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
template <class T>
void axpy(T* y, T alpha, const T* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}
template <class T>
void scale(T* x, T alpha, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= alpha;
}
}  // namespace scalar
}  // namespace ctformer::kernels

CTFORMER_KERNELS_END
