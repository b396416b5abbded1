// The feed-forward network's activation, chosen by the config: GELU (tanh form) or ReLU.
// Forward may run in place; backward writes dx = dy * act'(x) (in place on dy allowed).
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../tensor/kernels/activation.hpp"

namespace ctformer {

template <activation Act, class T>
void activation_forward(T* y, const T* x, std::size_t n) {
  if constexpr (Act == activation::gelu)
    kernels::gelu_forward(y, x, n);
  else
    kernels::relu_forward(y, x, n);
}

template <activation Act, class T>
void activation_backward(T* dx, const T* dy, const T* x, std::size_t n) {
  if constexpr (Act == activation::gelu)
    kernels::gelu_backward(dx, dy, x, n, false);
  else
    kernels::relu_backward(dx, dy, x, n, false);
}

}  // namespace ctformer
