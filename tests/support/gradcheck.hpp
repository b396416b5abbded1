// Gradient checking by central differences in double precision, written once against
// for_each_tensor: every element of every tensor is perturbed by +-h and the loss difference is
// compared with the analytic gradient. Reports the worst element by tensor name and index.
#pragma once

#include <ctformer/tensor/visit.hpp>

#include <algorithm>
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

// Checks n values x[0..n) against their analytic gradient dx by central differences, folding the
// result into r. loss() recomputes the scalar loss from the current (perturbed) values.
// Tolerance: |num - ana| <= atol + rtol * max(|num|, |ana|); with h = 1e-5 in double the
// truncation error is O(h^2) ~ 1e-10 and rounding ~ 1e-16 / h ~ 1e-11.
template <class X, class DX, class LossFn>
void check_values(grad_report& r, const std::string& name, X* x, const DX* dx, std::size_t n, LossFn&& loss,
                  double rtol = 1e-6, double atol = 1e-9, double h = 1e-5) {
  for (std::size_t i = 0; i < n; ++i) {
    const X saved = x[i];
    x[i] = saved + h;
    const double lp = loss();
    x[i] = saved - h;
    const double lm = loss();
    x[i] = saved;
    const double num = (lp - lm) / (2 * h);
    const double ana = double(dx[i]);
    const double err = std::abs(num - ana) / (atol + rtol * std::max(std::abs(num), std::abs(ana)));
    ++r.checked;
    if (err > r.worst) {
      r.worst = err;
      r.where = name + "[" + std::to_string(i) + "]";
      r.num = num;
      r.ana = ana;
    }
  }
}

// Every element of every tensor of params, against the same tensor of grads.
template <class P, class LossFn>
grad_report check_gradients(P& params, const P& grads, LossFn&& loss, double rtol = 1e-6,
                            double atol = 1e-9, double h = 1e-5) {
  grad_report r;
  for_each_tensor(params, grads, [&](const tensor_info& info, auto& w, const auto& dw) {
    check_values(r, info.str(), w.data(), dw.data(), w.size(), loss, rtol, atol, h);
  });
  return r;
}

}  // namespace ctformer::testing
