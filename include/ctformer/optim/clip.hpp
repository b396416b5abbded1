// Gradient utilities over any params-like struct: the global L2 norm, clipping by norm (as
// torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1; the norm
// before clipping is returned), scaling, and a finiteness check. Per-tensor sums of squares are
// combined in double in a fixed order, so the norm does not depend on the thread count.
#pragma once

#include <cmath>
#include <cstddef>

#include "../tensor/kernels/reduce.hpp"
#include "../tensor/visit.hpp"

namespace ctformer {

template <class P>
double grad_norm(const P& grads) {
  double total = 0;
  for_each_tensor(grads, [&](const tensor_info&, const auto& t) {
    total += double(kernels::sum_squares(t.data(), t.size()));
  });
  return std::sqrt(total);
}

template <class P>
void scale_grads(P& grads, double factor) {
  for_each_tensor(grads, [&](const tensor_info&, auto& t) {
    using T = std::remove_cvref_t<decltype(*t.data())>;
    kernels::scale(t.data(), T(factor), t.size());
  });
}

/// Returns the norm before clipping. max_norm <= 0 disables clipping (the norm is still returned).
template <class P>
double clip_grad_norm(P& grads, double max_norm) {
  const double norm = grad_norm(grads);
  if (max_norm > 0 && std::isfinite(norm)) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) scale_grads(grads, coef);
  }
  return norm;
}

}  // namespace ctformer
