// Inverted dropout: y = x * m / (1 - p), m ~ Bernoulli(1 - p). Element i's draw comes from a
// counter-based generator keyed by (seed, step, site), so masks are reproducible and do not depend
// on threads. The mask is kept as multipliers (0 or 1/(1-p)) for backward: dx += dy * mask.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../tensor/random.hpp"

namespace ctformer {

// What a forward pass is for. In eval mode dropout is the identity.
struct run_mode {
  bool train = false;
  std::uint64_t seed = 0;  // the run's seed
  std::uint64_t step = 0;  // the optimizer step, so each step draws new masks
  static constexpr run_mode eval() noexcept { return {}; }
  static constexpr run_mode training(std::uint64_t seed, std::uint64_t step) noexcept { return {true, seed, step}; }
};

// site: a distinct number per dropout location in the model (layer * 16 + position in block).
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
