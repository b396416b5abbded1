// Adam and AdamW over a flat span, with torch.optim's arithmetic. With coupled (L2) decay l2 the
// gradient is g + l2 p (Adam); with decoupled decay wd the weight shrinks first, p *= 1 - lr wd
// (AdamW). Then m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
#pragma once

#include <cmath>
#include <cstddef>

#include "simd.hpp"

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

/// Hyper-parameters are double, as PyTorch's are Python floats: the bias corrections and step
/// size are formed in double and rounded once to T, like torch.optim does.
template <class T>
struct adamw_step {
  double lr = 1e-3;  ///< learning rate
  double beta1 = 0.9;  ///< decay rate of the first-moment average
  double beta2 = 0.999;  ///< decay rate of the second-moment average
  double eps = 1e-8;  ///< added to sqrt(v-hat) in the denominator
  double weight_decay = 0.01;  ///< decoupled (AdamW)
  long step = 1;               ///< 1-based, as PyTorch counts after its increment
  double l2 = 0;               ///< coupled L2 decay added to the gradient (Adam's weight_decay)
};

template <class T>
void adamw_update(T* CTFORMER_RESTRICT p, const T* CTFORMER_RESTRICT g, T* CTFORMER_RESTRICT m,
                  T* CTFORMER_RESTRICT v, std::size_t n, const adamw_step<T>& s) {
  using B = simd<T>;
  const double bc1 = 1.0 - std::pow(s.beta1, double(s.step));
  const double bc2 = 1.0 - std::pow(s.beta2, double(s.step));
  const T step_size = T(s.lr / bc1);
  const T bc2_sqrt = T(std::sqrt(bc2));
  const T decay = T(1.0 - s.lr * s.weight_decay);
  const T b1 = T(s.beta1), b2 = T(s.beta2), c1 = T(1.0 - s.beta1), c2 = T(1.0 - s.beta2), eps = T(s.eps),
          l2 = T(s.l2);
  const B vb1(b1), vb2(b2), v1b1(c1), v1b2(c2);
  const B vdecay(decay), vstep(step_size), vbc2(bc2_sqrt), veps(eps);
  const B vl2(l2);
  const bool coupled = l2 != T(0);
  /// Every element through the same vector code, the last partial batch on a padded copy (its
  /// padding lanes compute finite values that are never stored).
  for_each_block<T>(n, [&](std::size_t i, std::size_t count) {
    const B pv = load_n(p + i, count);
    B gi = load_n(g + i, count);
    if (coupled) gi = v::fma(vl2, pv, gi);
    const B mi = v::fma(vb1, load_n(m + i, count), v1b1 * gi);
    const B vi = v::fma(vb2, load_n(v + i, count), v1b2 * gi * gi);
    store_n<T>(mi, m + i, count);
    store_n<T>(vi, v + i, count);
    const B denom = v::sqrt(vi) / vbc2 + veps;
    store_n<T>(pv * vdecay - vstep * (mi / denom), p + i, count);
  });
}

namespace scalar {
template <class T>
void adamw_update(T* p, const T* g, T* m, T* v, std::size_t n, const adamw_step<T>& s) {
  const double bc1 = 1.0 - std::pow(s.beta1, double(s.step));
  const double bc2 = 1.0 - std::pow(s.beta2, double(s.step));
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i] + T(s.l2) * p[i];
    p[i] *= T(1.0 - s.lr * s.weight_decay);
    m[i] = T(s.beta1) * m[i] + T(1.0 - s.beta1) * gi;
    v[i] = T(s.beta2) * v[i] + T(1.0 - s.beta2) * gi * gi;
    p[i] -= T(s.lr / bc1) * m[i] / (std::sqrt(v[i]) / T(std::sqrt(bc2)) + T(s.eps));
  }
}
}  // namespace scalar
}  // namespace ctformer::kernels

CTFORMER_KERNELS_END
