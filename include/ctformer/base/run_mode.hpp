// What a forward pass is for: training (dropout draws masks keyed by the run's seed and the
// optimizer step) or evaluation (dropout is the identity). Shared by layers/, models/, metrics/,
// train/ and deploy/, so it lives in base/, which depends on nothing else in the library.
#pragma once

#include <cstdint>

namespace ctformer {

/// What a forward pass is for. In eval mode dropout is the identity.
struct run_mode {
  bool train = false;  ///< training: dropout is active
  std::uint64_t seed = 0;  ///< the run's seed
  std::uint64_t step = 0;  ///< the optimizer step, so each step draws new masks
  /// Eval mode: no dropout.
  static constexpr run_mode eval() noexcept { return {}; }
  /// Training mode at optimizer step `step` of the run seeded with seed.
  static constexpr run_mode training(std::uint64_t seed, std::uint64_t step) noexcept { return {true, seed, step}; }
};

}  // namespace ctformer
