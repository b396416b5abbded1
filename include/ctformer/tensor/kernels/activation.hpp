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
inline constexpr T gelu_k0 = T(0.7978845608028654);  ///< sqrt(2/pi)
template <class T>
inline constexpr T gelu_k1 = T(0.044715);
}  // namespace detail

/// Each kernel below is elementwise(): an element's result does not depend on where it sits.
template <class T>
void gelu_forward(T* y, const T* x, std::size_t n) {
  using B = simd<T>;
  const B k0(detail::gelu_k0<T>), k1(detail::gelu_k1<T>), half(T(0.5)), one(T(1));
  elementwise(y, n, [&](B a) { return half * a * (one + v::tanh(k0 * v::fma(k1 * a * a, a, a))); }, x);
}

/// dx (+)= dy * gelu'(x)
template <class T>
void gelu_backward(T* dx, const T* dy, const T* x, std::size_t n, bool accumulate = true) {
  using B = simd<T>;
  const B k0(detail::gelu_k0<T>), k1(detail::gelu_k1<T>), k13(T(3) * detail::gelu_k1<T>), half(T(0.5)), one(T(1));
  auto grad = [&](B a, B d) {
    const B a2 = a * a;
    const B t = v::tanh(k0 * v::fma(k1 * a2, a, a));
    const B dudx = k0 * v::fma(k13, a2, one);
    return (half * (one + t) + half * a * (one - t * t) * dudx) * d;
  };
  if (accumulate)
    elementwise(dx, n, [&](B a, B d, B acc) { return grad(a, d) + acc; }, x, dy, static_cast<const T*>(dx));
  else
    elementwise(dx, n, grad, x, dy);
}

template <class T>
void relu_forward(T* y, const T* x, std::size_t n) {
  using B = simd<T>;
  const B zero(T(0));
  elementwise(y, n, [&](B a) { return v::max(a, zero); }, x);
}

/// dx (+)= dy * [x > 0]
template <class T>
void relu_backward(T* dx, const T* dy, const T* x, std::size_t n, bool accumulate = true) {
  using B = simd<T>;
  const B zero(T(0));
  if (accumulate)
    elementwise(dx, n, [&](B a, B d, B acc) { return v::select(a > zero, d, zero) + acc; }, x, dy,
                static_cast<const T*>(dx));
  else
    elementwise(dx, n, [&](B a, B d) { return v::select(a > zero, d, zero); }, x, dy);
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
