// LayerNorm over the last axis: y = (x - mean) * rstd * weight + bias (biased variance, as
// PyTorch). Forward writes y and, when given somewhere to put them, mean and rstd; backward
// writes or adds dx (write_mode) and ADDS into dweight and dbias.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "../tensor/kernels/layernorm.hpp"
#include "../tensor/tensor.hpp"
#include "linear.hpp"
#include "params.hpp"

namespace ctformer {

/// y, x (rows, C); mean, rstd (rows) or null. LN is a layernorm_params (or a view of one).
template <class T, class LN>
void layernorm_forward(T* y, T* mean, T* rstd, const T* x, std::size_t rows, const LN& p, T eps) {
  constexpr std::size_t C = LN::features;
  kernels::layernorm_forward<T>(y, mean, rstd, x, p.weight.data(), p.bias.data(), rows, C, eps);
}

template <class T, class LN>
void layernorm_backward(T* dx, write_mode dx_write, LN& g, const T* dy, const T* x, std::size_t rows,
                        const LN& p, const T* mean, const T* rstd) {
  constexpr std::size_t C = LN::features;
  if (dx_write == write_mode::overwrite) std::memset(dx, 0, rows * C * sizeof(T));
  kernels::layernorm_backward<T>(dx, g.weight.data(), g.bias.data(), dy, x, p.weight.data(), mean, rstd, rows, C);
}

template <class T, std::size_t Rows, std::size_t C>
void layernorm_forward(out<T, Rows, C> y, cache<T, Rows> mean, cache<T, Rows> rstd, in<T, Rows, C> x,
                       const layernorm_params<T, C>& p, T eps) {
  layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), Rows, p, eps);
}

template <class T, std::size_t Rows, std::size_t C>
void layernorm_backward(inout<T, Rows, C> dx, layernorm_params<T, C>& g, in<T, Rows, C> dy,
                        in<T, Rows, C> x, const layernorm_params<T, C>& p, in<T, Rows> mean,
                        in<T, Rows> rstd) {
  layernorm_backward(dx.data(), write_mode::accumulate, g, dy.data(), x.data(), Rows, p, mean.data(), rstd.data());
}

}  // namespace ctformer
