// Activations for the feed-forward network, elementwise over a flat span.
// GELU, tanh form (as GPT-2 and BERT): y = x/2 * (1 + tanh(u)), u = sqrt(2/pi) * (x + 0.044715 x^3);
// dy/dx = (1 + tanh u)/2 + x/2 * (1 - tanh^2 u) * sqrt(2/pi) * (1 + 3 * 0.044715 x^2).
// ReLU: y = max(x, 0), with gradient 0 at x = 0 (as PyTorch).
#pragma once

#include <cmath>
#include <cstddef>

#include "simd.hpp"

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

namespace detail {
template <class T>
inline constexpr T gelu_k0 = T(0.7978845608028654);  // sqrt(2/pi)
template <class T>
inline constexpr T gelu_k1 = T(0.044715);
}  // namespace detail

template <class T>
void gelu_forward(T* CTFORMER_RESTRICT y, const T* CTFORMER_RESTRICT x, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  const B k0(detail::gelu_k0<T>), k1(detail::gelu_k1<T>), half(T(0.5)), one(T(1));
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    const B v = B::load_unaligned(x + i);
    const B u = k0 * fmadd(k1 * v * v, v, v);
    (half * v * (one + xsimd::tanh(u))).store_unaligned(y + i);
  }
  for (; i < n; ++i) {
    const T v = x[i];
    const T u = detail::gelu_k0<T> * (v + detail::gelu_k1<T> * v * v * v);
    y[i] = T(0.5) * v * (T(1) + std::tanh(u));
  }
}

// dx (+)= dy * gelu'(x)
template <class T>
void gelu_backward(T* CTFORMER_RESTRICT dx, const T* CTFORMER_RESTRICT dy,
                   const T* CTFORMER_RESTRICT x, std::size_t n, bool accumulate = true) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  const B k0(detail::gelu_k0<T>), k1(detail::gelu_k1<T>), k13(T(3) * detail::gelu_k1<T>),
      half(T(0.5)), one(T(1));
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    const B v = B::load_unaligned(x + i);
    const B v2 = v * v;
    const B t = xsimd::tanh(k0 * fmadd(k1 * v2, v, v));
    const B dudx = k0 * fmadd(k13, v2, one);
    const B d = half * (one + t) + half * v * (one - t * t) * dudx;
    B g = d * B::load_unaligned(dy + i);
    if (accumulate) g += B::load_unaligned(dx + i);
    g.store_unaligned(dx + i);
  }
  for (; i < n; ++i) {
    const T v = x[i];
    const T t = std::tanh(detail::gelu_k0<T> * (v + detail::gelu_k1<T> * v * v * v));
    const T dudx = detail::gelu_k0<T> * (T(1) + T(3) * detail::gelu_k1<T> * v * v);
    const T g = dy[i] * (T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * dudx);
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

template <class T>
void relu_forward(T* CTFORMER_RESTRICT y, const T* CTFORMER_RESTRICT x, std::size_t n) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  std::size_t i = 0;
  const B zero(T(0));
  for (; i + W <= n; i += W) xsimd::max(B::load_unaligned(x + i), zero).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

// dx (+)= dy * [x > 0]
template <class T>
void relu_backward(T* CTFORMER_RESTRICT dx, const T* CTFORMER_RESTRICT dy,
                   const T* CTFORMER_RESTRICT x, std::size_t n, bool accumulate = true) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  std::size_t i = 0;
  const B zero(T(0));
  for (; i + W <= n; i += W) {
    B g = xsimd::select(B::load_unaligned(x + i) > zero, B::load_unaligned(dy + i), zero);
    if (accumulate) g += B::load_unaligned(dx + i);
    g.store_unaligned(dx + i);
  }
  for (; i < n; ++i) {
    const T g = x[i] > T(0) ? dy[i] : T(0);
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

namespace scalar {

template <class T>
void gelu_forward(T* y, const T* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const T v = x[i];
    y[i] = T(0.5) * v * (T(1) + std::tanh(detail::gelu_k0<T> * (v + detail::gelu_k1<T> * v * v * v)));
  }
}
template <class T>
void gelu_backward(T* dx, const T* dy, const T* x, std::size_t n, bool accumulate = true) {
  for (std::size_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T t = std::tanh(detail::gelu_k0<T> * (v + detail::gelu_k1<T> * v * v * v));
    const T d = T(0.5) * (T(1) + t) +
                T(0.5) * v * (T(1) - t * t) * detail::gelu_k0<T> * (T(1) + T(3) * detail::gelu_k1<T> * v * v);
    dx[i] = (accumulate ? dx[i] : T(0)) + dy[i] * d;
  }
}
template <class T>
void relu_forward(T* y, const T* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}
template <class T>
void relu_backward(T* dx, const T* dy, const T* x, std::size_t n, bool accumulate = true) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = (accumulate ? dx[i] : T(0)) + (x[i] > T(0) ? dy[i] : T(0));
}

}  // namespace scalar
}  // namespace ctformer::kernels

CTFORMER_KERNELS_END
