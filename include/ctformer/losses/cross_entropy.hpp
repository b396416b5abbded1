// Cross-entropy over rows of logits (N, V) with integer targets; rows whose target is
// ignore_index (padding) count for nothing, and the mean runs over the real rows only.
// With label smoothing e the target distribution is q = (1 - e) onehot(t) + e / V (PyTorch's
// definition): loss_i = (1 - e)(lse - x_t) + e (lse - mean_j x_j), dL/dx_i = (p_i - q_i) / n_real.
// Forward turns the logits into probabilities in place; backward turns those into gradients.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../data/batch.hpp"
#include "../error.hpp"
#include "../tensor/kernels/reduce.hpp"
#include "../tensor/kernels/softmax.hpp"
#include "../tensor/threading.hpp"

namespace ctformer {

/// A loss averaged over the rows that count, with their number.
struct loss_value {
  double loss = 0;        ///< mean over the rows that count (0 when none do)
  std::size_t count = 0;  ///< rows that count
};

/// logits (N, V) -> probabilities in place; row_loss (N) gets each row's loss (0 when ignored).
/// The mean is summed in a fixed order, so it does not depend on the thread count.
template <class T>
loss_value cross_entropy_forward(T* logits, T* row_loss, const std::int32_t* targets, std::size_t N,
                                 std::size_t V, T label_smoothing = T(0),
                                 std::int32_t ignore = ignore_index) {
  for (std::size_t i = 0; i < N; ++i) {
    const std::int32_t t = targets[i];
    if (t != ignore && (t < 0 || std::size_t(t) >= V))
      fail("cross_entropy: target {} at row {} is outside [0, {})", t, i, V);
  }
  default_pool().parallel_for(N, [&](std::size_t i, unsigned) {
    T* row = logits + i * V;
    const std::int32_t t = targets[i];
    const T mean_logit = (t != ignore && label_smoothing != T(0)) ? kernels::sum(row, V) / T(V) : T(0);
    const T target_logit = t != ignore ? row[t] : T(0);
    const T lse = kernels::softmax_row<T>(row, row, V, V);
    row_loss[i] = t == ignore ? T(0)
                              : (T(1) - label_smoothing) * (lse - target_logit) +
                                    label_smoothing * (lse - mean_logit);
  });
  loss_value r;
  double total = 0;
  for (std::size_t i = 0; i < N; ++i) {
    if (targets[i] == ignore) continue;
    total += double(row_loss[i]);
    ++r.count;
  }
  if (!std::isfinite(total)) fail("cross_entropy: the loss is not finite ({})", total);
  r.loss = r.count ? total / double(r.count) : 0.0;
  return r;
}

/// probs (N, V) from forward -> dL/dlogits in place, for L = scale * (sum of row losses).
/// Pass scale = 1 / count for the mean. Ignored rows get exactly zero.
template <class T>
void cross_entropy_backward(T* probs, const std::int32_t* targets, std::size_t N, std::size_t V, T scale,
                            T label_smoothing = T(0), std::int32_t ignore = ignore_index) {
  default_pool().parallel_for(N, [&](std::size_t i, unsigned) {
    T* row = probs + i * V;
    const std::int32_t t = targets[i];
    if (t == ignore) {
      for (std::size_t j = 0; j < V; ++j) row[j] = T(0);
      return;
    }
    const T off = label_smoothing / T(V);
    for (std::size_t j = 0; j < V; ++j) row[j] = scale * (row[j] - off);
    row[t] -= scale * (T(1) - label_smoothing);
  });
}

}  // namespace ctformer
