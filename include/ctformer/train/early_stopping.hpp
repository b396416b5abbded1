// Early stopping, shared by the trainer and any evaluation loop: after each evaluation call
// should_stop(value, step). A value improves when it beats the best by more than min_delta
// (value < best - min_delta for mode min, value > best + min_delta for max); training stops after
// `patience` evaluations in a row without improvement (patience 0: never stop, only track the
// best, as trainer_options). NaN never improves (it counts as a bad evaluation).
#pragma once

#include <cmath>
#include <cstddef>

#include "../error.hpp"

namespace ctformer {

enum class stop_mode { min, max };

/// Stops training after `patience` evaluations in a row without improvement of a metric.
class early_stopping {
 public:
  /// Direction, patience and minimum improvement.
  struct options {
    stop_mode mode = stop_mode::min;  ///< min for a loss, max for accuracy / BLEU / AUC
    std::size_t patience = 5;         ///< stop after this many evaluations in a row without improvement; 0: never
    double min_delta = 0;             ///< smallest change that counts as an improvement (>= 0)
  };

  /// Everything needed to resume exactly (checkpoints store it).
  struct state {
    bool has_best = false;  ///< an evaluation has been recorded
    double best = 0;  ///< best value so far
    std::size_t best_step = 0;  ///< step of the best value
    std::size_t bad = 0;  ///< evaluations in a row without improvement
    bool improved = false;  ///< the last evaluation was the new best
    bool stopped = false;  ///< training should stop
  };

  early_stopping() : early_stopping(options{}) {}
  /// Default options: min mode, patience 5, min_delta 0.
  explicit early_stopping(options o) : o_(o) {
    if (!(o_.min_delta >= 0)) fail("early_stopping: min_delta must be >= 0, got {}", o_.min_delta);
  }
  /// Options as arguments; min_delta must be >= 0.
  early_stopping(stop_mode mode, std::size_t patience, double min_delta = 0)
      : early_stopping(options{mode, patience, min_delta}) {}

  /// Records the evaluation at `step`. Returns true when training should stop now (and on every
  /// later call). After it, improved() tells whether this value is the new best: keep the weights.
  bool should_stop(double value, std::size_t step) {
    if (s_.stopped) {
      s_.improved = false;
      return true;
    }
    s_.improved = !std::isnan(value) && (!s_.has_best || better(value));
    if (s_.improved) {
      s_.has_best = true;
      s_.best = value;
      s_.best_step = step;
      s_.bad = 0;
    } else {
      ++s_.bad;
      if (o_.patience > 0 && s_.bad >= o_.patience) s_.stopped = true;
    }
    return s_.stopped;
  }

  /// The last evaluation was the new best (keep the weights).
  bool improved() const noexcept { return s_.improved; }
  /// Training should stop.
  bool stopped() const noexcept { return s_.stopped; }
  /// An evaluation has been recorded.
  bool has_best() const noexcept { return s_.has_best; }
  /// Best value so far; fails before the first evaluation.
  double best() const {
    if (!s_.has_best) fail("early_stopping: no evaluation recorded yet");
    return s_.best;
  }
  /// Step of the best value; fails before the first evaluation.
  std::size_t best_step() const {
    if (!s_.has_best) fail("early_stopping: no evaluation recorded yet");
    return s_.best_step;
  }
  /// Evaluations in a row without improvement.
  std::size_t bad_evaluations() const noexcept { return s_.bad; }
  /// The options given at construction.
  const options& settings() const noexcept { return o_; }

  /// The state, for checkpoints.
  const state& get_state() const noexcept { return s_; }
  /// Restores a state from a checkpoint.
  void set_state(const state& s) { s_ = s; }
  /// Forgets every evaluation (options stay).
  void reset() { s_ = {}; }

 private:
  bool better(double v) const {
    return o_.mode == stop_mode::min ? v < s_.best - o_.min_delta : v > s_.best + o_.min_delta;
  }
  options o_;
  state s_;
};

}  // namespace ctformer
