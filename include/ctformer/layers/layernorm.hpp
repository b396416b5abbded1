// LayerNorm over the last axis: y = (x - mean) * rstd * weight + bias (biased variance, as
// PyTorch). Forward writes y and caches mean and rstd; backward ADDS into dx, dweight, dbias.
#pragma once

#include <cstddef>

#include "../tensor/kernels/layernorm.hpp"
#include "../tensor/tensor.hpp"
#include "params.hpp"

namespace ctformer {

template <class T, std::size_t Rows, std::size_t C>
void layernorm_forward(out<T, Rows, C> y, cache<T, Rows> mean, cache<T, Rows> rstd, in<T, Rows, C> x,
                       const layernorm_params<T, C>& p, T eps) {
  kernels::layernorm_forward<T>(y.data(), mean.data(), rstd.data(), x.data(), p.weight.data(),
                                p.bias.data(), Rows, C, eps);
}

template <class T, std::size_t Rows, std::size_t C>
void layernorm_backward(inout<T, Rows, C> dx, layernorm_params<T, C>& g, in<T, Rows, C> dy,
                        in<T, Rows, C> x, const layernorm_params<T, C>& p, in<T, Rows> mean,
                        in<T, Rows> rstd) {
  kernels::layernorm_backward<T>(dx.data(), g.weight.data(), g.bias.data(), dy.data(), x.data(),
                                 p.weight.data(), mean.data(), rstd.data(), Rows, C);
}

}  // namespace ctformer
