// Inverted dropout: y = x * m / (1 - p), m ~ Bernoulli(1 - p). Element i's draw comes from a
// counter-based generator keyed by (seed, step, site), so masks are reproducible and do not depend
// on threads. The mask is kept as multipliers (0 or 1/(1-p)) for backward: dx += dy * mask.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../base/random.hpp"
#include "../base/run_mode.hpp"

namespace ctformer {

/// site: a distinct number per dropout location, so no two locations share a stream. The models
/// number them: 0 the (encoder) embeddings, 1 seq2seq's decoder embeddings; a block of site b (its
/// layer + 1, or 1000 + layer in seq2seq's decoder) uses 8b + 1..5 (1 self-attention
/// probabilities, 2 its residual branch, 3 cross-attention probabilities, 4 its branch, 5 the
/// FFN's branch), and attention probabilities draw per (batch row, head) at (8b + k) * 4096 + task.
template <class T>
void dropout_forward(T* y, T* mask, const T* x, std::size_t n, float p, const run_mode& mode,
                     std::uint64_t site) {
  const counter_rng rng{derive_key(mode.seed, mode.step, site)};
  const T keep = T(1) / (T(1) - T(p));
  for (std::size_t i = 0; i < n; ++i) {
    mask[i] = rng.uniform(i) < double(p) ? T(0) : keep;
    y[i] = x[i] * mask[i];
  }
}

template <class T>
void dropout_backward(T* dx, const T* dy, const T* mask, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] += dy[i] * mask[i];
}

}  // namespace ctformer
