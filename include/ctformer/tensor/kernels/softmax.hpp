// Row softmax for attention: y_j = exp(s*x_j - m) / sum_k exp(s*x_k - m) over the valid entries,
// where m is their maximum. Masked entries (past the causal limit, or keys with mask 0) get
// exactly 0. A row with no valid entry is all zeros rather than NaN.
// Backward: dx_j (+)= y_j * (dy_j - sum_k y_k dy_k).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "simd.hpp"

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

/// Softmax over x[0:n_valid) (scaled by `scale` > 0); y[n_valid:n) = 0. y may alias x.
/// Returns log(sum_j exp(scale * x_j)) over the valid entries (-inf when there are none).
template <class T>
T softmax_row(T* y, const T* x, std::size_t n, std::size_t n_valid, T scale = T(1)) {
  using B = simd<T>;
  constexpr T lowest = -std::numeric_limits<T>::infinity();
  n_valid = std::min(n_valid, n);
  if (n_valid == 0) {
    std::fill(y, y + n, T(0));
    return lowest;
  }
  /// Padding of the last batch is -inf: it never wins the maximum and its exp is exactly 0.
  B vm(lowest);
  for_each_block<T>(n_valid, [&](std::size_t j, std::size_t count) { vm = v::max(vm, load_n(x + j, count, lowest)); });
  const T shift = hmax(vm) * scale;
  const B vs(scale), vshift(shift);
  B vsum(T(0));
  for_each_block<T>(n_valid, [&](std::size_t j, std::size_t count) {
    const B e = v::exp(v::fms(load_n(x + j, count, lowest), vs, vshift));
    store_n<T>(e, y + j, count);
    vsum += e;
  });
  const T sum = v::hadd(vsum);
  const B vinv(T(1) / sum);
  elementwise(y, n_valid, [&](B e) { return e * vinv; }, static_cast<const T*>(y));
  std::fill(y + n_valid, y + n, T(0));
  return shift + std::log(sum);
}

/// Causal softmax of a (rows, cols) block with row stride ld: row i may see columns
/// [0, i + offset + 1). offset is the number of earlier positions (a KV cache's length).
template <class T>
void softmax_causal(T* y, const T* x, std::size_t rows, std::size_t cols, std::size_t ld,
                    std::size_t offset = 0, T scale = T(1)) {
  for (std::size_t i = 0; i < rows; ++i)
    softmax_row(y + i * ld, x + i * ld, cols, std::min(cols, i + offset + 1), scale);
}

/// Softmax over x[0:n) where key_mask[j] == 0 marks a padded key that must get zero weight.
/// valid_limit additionally hides entries j >= valid_limit (a causal limit), pass n for none.
template <class T, class M>
void softmax_row_masked(T* y, const T* x, std::size_t n, const M* key_mask,
                        std::size_t valid_limit, T scale = T(1)) {
  valid_limit = std::min(valid_limit, n);
  T mx = -std::numeric_limits<T>::infinity();
  bool any = false;
  for (std::size_t j = 0; j < valid_limit; ++j)
    if (key_mask[j] != M(0)) {
      mx = std::max(mx, x[j]);
      any = true;
    }
  if (!any) {
    std::fill(y, y + n, T(0));
    return;
  }
  const T shift = mx * scale;
  T sum = 0;
  for (std::size_t j = 0; j < valid_limit; ++j) {
    const T e = key_mask[j] != M(0) ? std::exp(x[j] * scale - shift) : T(0);
    y[j] = e;
    sum += e;
  }
  const T inv = T(1) / sum;
  for (std::size_t j = 0; j < valid_limit; ++j) y[j] *= inv;
  std::fill(y + valid_limit, y + n, T(0));
}

/// dx (+)= y * (dy - <y, dy>) over one row of length n; entries with y == 0 get nothing.
/// dx may alias dy.
template <class T>
void softmax_backward_row(T* dx, const T* y, const T* dy, std::size_t n, bool accumulate = true,
                          T scale = T(1)) {
  using B = simd<T>;
  B vdot(T(0));
  for_each_block<T>(n, [&](std::size_t j, std::size_t count) { vdot = v::fma(load_n(y + j, count), load_n(dy + j, count), vdot); });
  const B vd(v::hadd(vdot)), vs(scale);
  if (accumulate)
    elementwise(dx, n, [&](B yv, B dyv, B acc) { return yv * (dyv - vd) * vs + acc; }, y, dy, static_cast<const T*>(dx));
  else
    elementwise(dx, n, [&](B yv, B dyv) { return yv * (dyv - vd) * vs; }, y, dy);
}

namespace scalar {

template <class T>
T softmax_row(T* y, const T* x, std::size_t n, std::size_t n_valid, T scale = T(1)) {
  n_valid = std::min(n_valid, n);
  for (std::size_t j = n_valid; j < n; ++j) y[j] = 0;
  if (n_valid == 0) return -std::numeric_limits<T>::infinity();
  T mx = x[0];
  for (std::size_t j = 1; j < n_valid; ++j) mx = std::max(mx, x[j]);
  T sum = 0;
  for (std::size_t j = 0; j < n_valid; ++j) sum += (y[j] = std::exp(scale * (x[j] - mx)));
  for (std::size_t j = 0; j < n_valid; ++j) y[j] /= sum;
  return scale * mx + std::log(sum);
}

template <class T>
void softmax_causal(T* y, const T* x, std::size_t rows, std::size_t cols, std::size_t ld,
                    std::size_t offset = 0, T scale = T(1)) {
  for (std::size_t i = 0; i < rows; ++i)
    softmax_row(y + i * ld, x + i * ld, cols, std::min(cols, i + offset + 1), scale);
}

template <class T, class M>
void softmax_row_masked(T* y, const T* x, std::size_t n, const M* key_mask, std::size_t valid_limit,
                        T scale = T(1)) {
  T mx = -std::numeric_limits<T>::infinity();
  for (std::size_t j = 0; j < n; ++j)
    if (j < valid_limit && key_mask[j] != M(0)) mx = std::max(mx, x[j]);
  T sum = 0;
  for (std::size_t j = 0; j < n; ++j) {
    y[j] = (j < valid_limit && key_mask[j] != M(0)) ? std::exp(scale * (x[j] - mx)) : T(0);
    sum += y[j];
  }
  for (std::size_t j = 0; j < n; ++j) y[j] = sum > 0 ? y[j] / sum : T(0);
}

template <class T>
void softmax_backward_row(T* dx, const T* y, const T* dy, std::size_t n, bool accumulate = true,
                          T scale = T(1)) {
  T dot = 0;
  for (std::size_t j = 0; j < n; ++j) dot += y[j] * dy[j];
  for (std::size_t j = 0; j < n; ++j) {
    const T g = scale * y[j] * (dy[j] - dot);
    dx[j] = accumulate ? dx[j] + g : g;
  }
}

}  // namespace scalar
}  // namespace ctformer::kernels

CTFORMER_KERNELS_END
