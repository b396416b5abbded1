// Binary cross-entropy with logits, in the stable form
// l_i = max(x_i, 0) - x_i t_i + log(1 + exp(-|x_i|)), mean over rows with weight > 0;
// dL/dx_i = w_i (sigmoid(x_i) - t_i) / sum_i w_i. Targets may be soft (in [0, 1]).
#pragma once

#include <cmath>
#include <cstddef>

#include "../error.hpp"
#include "cross_entropy.hpp"

namespace ctformer {

template <class T>
loss_value bce_with_logits_forward(const T* x, const T* target, std::size_t N, const T* weight = nullptr) {
  double total = 0, wsum = 0;
  loss_value r;
  for (std::size_t i = 0; i < N; ++i) {
    const double w = weight ? double(weight[i]) : 1.0;
    if (w == 0) continue;
    const double xi = x[i], ti = target[i];
    total += w * (std::max(xi, 0.0) - xi * ti + std::log1p(std::exp(-std::abs(xi))));
    wsum += w;
    ++r.count;
  }
  if (!std::isfinite(total)) fail("bce: the loss is not finite ({})", total);
  r.loss = wsum > 0 ? total / wsum : 0.0;
  return r;
}

template <class T>
void bce_with_logits_backward(T* dx, const T* x, const T* target, std::size_t N, const T* weight = nullptr,
                              T scale = T(1)) {
  double wsum = 0;
  for (std::size_t i = 0; i < N; ++i) wsum += weight ? double(weight[i]) : 1.0;
  const T k = wsum > 0 ? T(1.0 / wsum) * scale : T(0);
  for (std::size_t i = 0; i < N; ++i) {
    const T s = T(1) / (T(1) + std::exp(-x[i]));
    dx[i] = k * (weight ? weight[i] : T(1)) * (s - target[i]);
  }
}

}  // namespace ctformer
