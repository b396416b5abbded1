// Token embedding and positional encodings.
// Token: y[r] = table[ids[r]]; backward adds dy[r] into dtable[ids[r]] (rows in order, so the
// result does not depend on threads). Learned positions: x[b, s] += table[offset + s].
// Sinusoidal (fixed): PE[pos, 2i] = sin(pos / 10000^(2i/C)), PE[pos, 2i+1] = cos(same).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../error.hpp"
#include "../tensor/kernels/reduce.hpp"
#include "../tensor/tensor.hpp"

namespace ctformer {

/// y (Rows, C) = table[ids] * scale. An id outside [0, V) is bad input and throws.
template <class T, std::size_t Rows, std::size_t V, std::size_t C>
void embedding_forward(out<T, Rows, C> y, in<std::int32_t, Rows> ids, in<T, V, C> table, T scale = T(1)) {
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::int32_t id = ids[r];
    if (id < 0 || std::size_t(id) >= V)
      fail("token id {} at position {} is outside the vocabulary (size {})", id, r, V);
    std::memcpy(y.data() + r * C, table.data() + std::size_t(id) * C, C * sizeof(T));
    if (scale != T(1)) kernels::scale(y.data() + r * C, scale, C);
  }
}

template <class T, std::size_t Rows, std::size_t V, std::size_t C>
void embedding_backward(inout<T, V, C> dtable, in<T, Rows, C> dy, in<std::int32_t, Rows> ids,
                        T scale = T(1)) {
  for (std::size_t r = 0; r < Rows; ++r)
    kernels::axpy(dtable.data() + std::size_t(ids[r]) * C, scale, dy.data() + r * C, C);
}

/// x (B, S, C) += table[offset + s] for every batch row.
template <class T, std::size_t B, std::size_t S, std::size_t Ctx, std::size_t C>
void positions_forward(inout<T, B * S, C> x, in<T, Ctx, C> table, std::size_t offset = 0) {
  if (offset + S > Ctx) fail("position {} is beyond the model's context of {}", offset + S - 1, Ctx);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t s = 0; s < S; ++s)
      kernels::add(x.data() + (b * S + s) * C, x.data() + (b * S + s) * C,
                   table.data() + (offset + s) * C, C);
}

/// dtable[offset + s] += sum over b of dx[b, s]
template <class T, std::size_t B, std::size_t S, std::size_t Ctx, std::size_t C>
void positions_backward(inout<T, Ctx, C> dtable, in<T, B * S, C> dx, std::size_t offset = 0) {
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t s = 0; s < S; ++s)
      kernels::axpy(dtable.data() + (offset + s) * C, T(1), dx.data() + (b * S + s) * C, C);
}

/// The fixed sinusoidal table for Ctx positions, computed once in double and kept in static
/// storage (no heap).
template <class T, std::size_t Ctx, std::size_t C>
const tensor2<T, Ctx, C>& sinusoidal_table() {
  static const tensor2<T, Ctx, C> table = [] {
    tensor2<T, Ctx, C> t;
    for (std::size_t pos = 0; pos < Ctx; ++pos)
      for (std::size_t i = 0; i < C; ++i) {
        const double freq = std::pow(10000.0, -double(i - i % 2) / double(C));
        const double a = double(pos) * freq;
        t(pos, i) = T(i % 2 == 0 ? std::sin(a) : std::cos(a));
      }
    return t;
  }();
  return table;
}

}  // namespace ctformer
