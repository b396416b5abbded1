// Linear layer y = x W + b with W stored (in, out), GPT-2's Conv1D layout.
// Backward: dW += x^T dy, db += sum over rows of dy, and dx = dy W^T (overwrite) or dx += dy W^T
// (accumulate). Inputs may be column blocks of wider matrices (leading dimension ld), as the fused
// q|k|v projection needs. Row counts are run-time figures: a training batch, the new positions of
// a KV-cache pass and the hypotheses of a beam all go through the same call.
#pragma once

#include <cstddef>

#include "../tensor/kernels/gemm.hpp"
#include "../tensor/kernels/reduce.hpp"
#include "../tensor/tensor.hpp"
#include "params.hpp"

namespace ctformer {

/// Whether a layer's output (or input gradient) replaces what the buffer holds or adds to it.
enum class write_mode : unsigned char { overwrite, accumulate };

namespace detail {
/// db += column sums of dy (Rows x Out, leading dimension ld).
template <class T>
void add_column_sums(T* db, const T* dy, std::size_t rows, std::size_t cols, std::size_t ld) {
  for (std::size_t r = 0; r < rows; ++r) kernels::axpy(db, T(1), dy + r * ld, cols);
}
}  // namespace detail

/// y (rows, Out) with leading dimension ldy = x (rows, In) with ldx, times W, plus b. The
/// weights may be owning or a view (weights in flash).
template <class T, std::size_t In, std::size_t Out, unsigned F, template <class, std::size_t...> class Tn>
void linear_forward(T* y, std::size_t ldy, const T* x, std::size_t ldx, std::size_t rows,
                    const linear_params<T, In, Out, F, Tn>& p, write_mode w = write_mode::overwrite) {
  kernels::gemm<T>(false, false, rows, Out, In, T(1), x, ldx, p.weight.data(), Out,
                   w == write_mode::accumulate ? T(1) : T(0), y, ldy, p.bias.data());
}

template <class T, std::size_t Rows, std::size_t In, std::size_t Out, unsigned F>
void linear_forward(out<T, Rows, Out> y, in<T, Rows, In> x, const linear_params<T, In, Out, F>& p) {
  linear_forward(y.data(), Out, x.data(), In, Rows, p);
}

/// dx may be null (no input gradient wanted, e.g. right after an embedding lookup).
template <class T, std::size_t In, std::size_t Out, unsigned F>
void linear_backward(T* dx, std::size_t lddx, write_mode dx_write, linear_params<T, In, Out, F>& g, const T* dy,
                     std::size_t lddy, const T* x, std::size_t ldx, std::size_t rows,
                     const linear_params<T, In, Out, F>& p) {
  if (dx)
    kernels::gemm<T>(false, true, rows, In, Out, T(1), dy, lddy, p.weight.data(), Out,
                     dx_write == write_mode::accumulate ? T(1) : T(0), dx, lddx);
  kernels::gemm<T>(true, false, In, Out, rows, T(1), x, ldx, dy, lddy, T(1), g.weight.data(), Out);
  detail::add_column_sums(g.bias.data(), dy, rows, Out, lddy);
}

template <class T, std::size_t Rows, std::size_t In, std::size_t Out, unsigned F>
void linear_backward(inout<T, Rows, In> dx, linear_params<T, In, Out, F>& g, in<T, Rows, Out> dy,
                     in<T, Rows, In> x, const linear_params<T, In, Out, F>& p) {
  linear_backward(dx.data(), In, write_mode::accumulate, g, dy.data(), Out, x.data(), In, Rows, p);
}

}  // namespace ctformer
