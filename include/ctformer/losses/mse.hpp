// Mean squared error over N predictions, with optional per-row weights (0 drops a padded row):
// L = sum_i w_i (y_i - t_i)^2 / sum_i w_i, dL/dy_i = 2 w_i (y_i - t_i) / sum_i w_i.
#pragma once

#include <cmath>
#include <cstddef>

#include "../error.hpp"
#include "cross_entropy.hpp"

namespace ctformer {

template <class T>
loss_value mse_forward(const T* y, const T* target, std::size_t N, const T* weight = nullptr) {
  double total = 0, wsum = 0;
  loss_value r;
  for (std::size_t i = 0; i < N; ++i) {
    const double w = weight ? double(weight[i]) : 1.0;
    if (w == 0) continue;
    const double d = double(y[i]) - double(target[i]);
    total += w * d * d;
    wsum += w;
    ++r.count;
  }
  if (!std::isfinite(total)) fail("mse: the loss is not finite ({})", total);
  r.loss = wsum > 0 ? total / wsum : 0.0;
  return r;
}

/// dy (N) = scale * dL/dy (overwrite).
template <class T>
void mse_backward(T* dy, const T* y, const T* target, std::size_t N, const T* weight = nullptr, T scale = T(1)) {
  double wsum = 0;
  for (std::size_t i = 0; i < N; ++i) wsum += weight ? double(weight[i]) : 1.0;
  const T k = wsum > 0 ? T(2.0 / wsum) * scale : T(0);
  for (std::size_t i = 0; i < N; ++i) dy[i] = k * (weight ? weight[i] : T(1)) * (y[i] - target[i]);
}

}  // namespace ctformer
