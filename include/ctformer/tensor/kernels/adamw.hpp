// AdamW over a flat span, with torch.optim.AdamW's arithmetic (decoupled weight decay):
// p *= 1 - lr*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// The bias corrections are computed once per tensor by the caller (adamw_step below does it).
#pragma once

#include <cmath>
#include <cstddef>

#include "simd.hpp"

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

template <class T>
struct adamw_step {
  T lr = T(1e-3);
  T beta1 = T(0.9);
  T beta2 = T(0.999);
  T eps = T(1e-8);
  T weight_decay = T(0.01);
  long step = 1;  // 1-based, as PyTorch counts after its increment
};

template <class T>
void adamw_update(T* CTFORMER_RESTRICT p, const T* CTFORMER_RESTRICT g, T* CTFORMER_RESTRICT m,
                  T* CTFORMER_RESTRICT v, std::size_t n, const adamw_step<T>& s) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  const T bc1 = T(1) - std::pow(s.beta1, T(s.step));
  const T bc2 = T(1) - std::pow(s.beta2, T(s.step));
  const T step_size = s.lr / bc1;
  const T bc2_sqrt = std::sqrt(bc2);
  const T decay = T(1) - s.lr * s.weight_decay;
  const B vb1(s.beta1), vb2(s.beta2), v1b1(T(1) - s.beta1), v1b2(T(1) - s.beta2);
  const B vdecay(decay), vstep(step_size), vbc2(bc2_sqrt), veps(s.eps);
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    const B gi = B::load_unaligned(g + i);
    const B mi = xsimd::fma(vb1, B::load_unaligned(m + i), v1b1 * gi);
    const B vi = xsimd::fma(vb2, B::load_unaligned(v + i), v1b2 * gi * gi);
    mi.store_unaligned(m + i);
    vi.store_unaligned(v + i);
    const B denom = xsimd::sqrt(vi) / vbc2 + veps;
    const B pi = B::load_unaligned(p + i) * vdecay;
    (pi - vstep * (mi / denom)).store_unaligned(p + i);
  }
  for (; i < n; ++i) {
    const T mi = s.beta1 * m[i] + (T(1) - s.beta1) * g[i];
    const T vi = s.beta2 * v[i] + (T(1) - s.beta2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    const T denom = std::sqrt(vi) / bc2_sqrt + s.eps;
    p[i] = p[i] * decay - step_size * (mi / denom);
  }
}

namespace scalar {
template <class T>
void adamw_update(T* p, const T* g, T* m, T* v, std::size_t n, const adamw_step<T>& s) {
  const T bc1 = T(1) - std::pow(s.beta1, T(s.step));
  const T bc2 = T(1) - std::pow(s.beta2, T(s.step));
  for (std::size_t i = 0; i < n; ++i) {
    p[i] *= T(1) - s.lr * s.weight_decay;
    m[i] = s.beta1 * m[i] + (T(1) - s.beta1) * g[i];
    v[i] = s.beta2 * v[i] + (T(1) - s.beta2) * g[i] * g[i];
    p[i] -= (s.lr / bc1) * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + s.eps);
  }
}
}  // namespace scalar
}  // namespace ctformer::kernels

CTFORMER_KERNELS_END
