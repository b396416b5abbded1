// Reductions over a flat span: sum, max, sum of squares and dot product, plus the elementwise
// helpers the layers and optimizers share (add, axpy, scale). Sums use W independent lanes (the
// last partial batch zero-padded) combined in a fixed order, so results depend only on the values
// and n, never on the thread count or on where the span sits.
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
  B acc0(T(0)), acc1(T(0));  ///< two chains, for throughput
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    acc0 += B::load_unaligned(x + i);
    acc1 += B::load_unaligned(x + i + W);
  }
  for_each_block<T>(n - i, [&](std::size_t j, std::size_t count) { acc0 += load_n(x + i + j, count); });
  return v::hadd(acc0 + acc1);
}

/// Maximum of x[0:n); -infinity for n == 0. NaN entries are skipped.
template <class T>
T max(const T* x, std::size_t n) {
  using B = simd<T>;
  constexpr T lowest = -std::numeric_limits<T>::infinity();
  B acc(lowest);
  for_each_block<T>(n, [&](std::size_t i, std::size_t count) {
    const B a = load_n(x + i, count, lowest);
    acc = v::select(a > acc, a, acc);
  });
  return hmax(acc);
}

template <class T>
T dot(const T* x, const T* y, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  B acc0(T(0)), acc1(T(0));
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    acc0 = v::fma(B::load_unaligned(x + i), B::load_unaligned(y + i), acc0);
    acc1 = v::fma(B::load_unaligned(x + i + W), B::load_unaligned(y + i + W), acc1);
  }
  for_each_block<T>(n - i, [&](std::size_t j, std::size_t count) {
    acc0 = v::fma(load_n(x + i + j, count), load_n(y + i + j, count), acc0);
  });
  return v::hadd(acc0 + acc1);
}

template <class T>
T sum_squares(const T* x, std::size_t n) {
  return dot(x, x, n);
}

/// y = a + b (y may alias a or b).
template <class T>
void add(T* y, const T* a, const T* b, std::size_t n) {
  using B = simd<T>;
  elementwise(y, n, [](B u, B w) { return u + w; }, a, b);
}

/// y += alpha * x (one fused multiply-add per element)
template <class T>
void axpy(T* y, T alpha, const T* x, std::size_t n) {
  using B = simd<T>;
  const B va(alpha);
  elementwise(y, n, [&](B u, B w) { return v::fma(va, u, w); }, x, static_cast<const T*>(y));
}

/// x *= alpha
template <class T>
void scale(T* x, T alpha, std::size_t n) {
  using B = simd<T>;
  const B va(alpha);
  elementwise(x, n, [&](B u) { return u * va; }, static_cast<const T*>(x));
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
