// Gradient checking by central differences in double precision, written once against
// for_each_tensor: every element of every tensor is perturbed by +-h and the loss difference is
// compared with the analytic gradient. Reports the worst element by tensor name and index.
#pragma once

#include <ctformer/tensor/visit.hpp>

#include <cmath>
#include <cstddef>
#include <string>

namespace ctformer::testing {

struct grad_report {
  double worst = 0;  // max over elements of |num - ana| / (atol + rtol * max(|num|, |ana|))
  std::string where;
  double num = 0, ana = 0;
  std::size_t checked = 0;
};

// loss() recomputes the scalar loss from the current (perturbed) parameters.
// Tolerance: |num - ana| <= atol + rtol * max(|num|, |ana|); with h = 1e-5 in double the
// truncation error is O(h^2) ~ 1e-10 and rounding ~ 1e-16 / h ~ 1e-11.
template <class P, class LossFn>
grad_report check_gradients(P& params, const P& grads, LossFn&& loss, double rtol = 1e-6,
                            double atol = 1e-9, double h = 1e-5) {
  grad_report r;
  for_each_tensor(params, grads, [&](const tensor_info& info, auto& w, const auto& dw) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      auto* p = w.data() + i;
      const auto saved = *p;
      *p = saved + h;
      const double lp = loss();
      *p = saved - h;
      const double lm = loss();
      *p = saved;
      const double num = (lp - lm) / (2 * h);
      const double ana = double(dw.data()[i]);
      const double err = std::abs(num - ana) / (atol + rtol * std::max(std::abs(num), std::abs(ana)));
      ++r.checked;
      if (err > r.worst) {
        r.worst = err;
        r.where = info.str() + "[" + std::to_string(i) + "]";
        r.num = num;
        r.ana = ana;
      }
    }
  });
  return r;
}

}  // namespace ctformer::testing
