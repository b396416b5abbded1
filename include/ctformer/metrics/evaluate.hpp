// The evaluation loop: run a predict callable over every batch in eval mode (run_mode::eval(),
// dropout off) and stream each batch's output into any set of accumulators, then collect their
// metric_sets. An accumulator is any type with reset(), update(const Output&) and result() ->
// metric_set; the streaming ones keep sums or a confusion matrix, score_metrics keeps the scores.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../base/run_mode.hpp"
#include "core.hpp"

namespace ctformer::metrics {

template <class Acc, class Output>
concept accumulator_for = requires(Acc& a, const Acc& ca, const Output& out) {
  a.reset();
  a.update(out);
  { ca.result() } -> std::convertible_to<metric_set>;
};

/// Mean of a per-batch quantity, e.g. the validation loss: update with {sum, count}.
struct sum_count {
  double sum = 0;         ///< sum of the quantity over the batch
  std::size_t count = 0;  ///< number of items summed
};

/// Mean of sum_count updates over batches: the sum of sums over the sum of counts.
class running_mean {
 public:
  /// Reports the mean under `name`.
  explicit running_mean(std::string name = "loss") : name_(std::move(name)) {}
  /// Zeroes the sum and count.
  void reset() { s_ = {}; }
  /// Adds a batch's sum and count.
  void update(const sum_count& x) {
    s_.sum += x.sum;
    s_.count += x.count;
  }
  /// {name: sum / count}; throws if the count is 0.
  metric_set result() const {
    detail::require_nonempty(s_.count, name_);
    metric_set m;
    m.set(name_, s_.sum / double(s_.count));
    return m;
  }

 private:
  std::string name_;
  sum_count s_;
};

/// Feeds an accumulator with a projection of the batch output, for a predict callable that
/// returns several things: project(cls, [](const my_out& o) { return o.classes; }).
template <class Acc, class Proj>
class projected {
 public:
  /// Feeds `acc`, held by reference, with proj(output).
  projected(Acc& acc, Proj proj) : acc_(acc), proj_(std::move(proj)) {}
  /// Resets the wrapped accumulator.
  void reset() { acc_.reset(); }
  /// Updates the wrapped accumulator with proj(out).
  template <class Output>
  void update(const Output& out) {
    acc_.update(proj_(out));
  }
  /// The wrapped accumulator's result.
  metric_set result() const { return acc_.result(); }

 private:
  Acc& acc_;
  Proj proj_;
};

template <class Acc, class Proj>
projected<Acc, Proj> project(Acc& acc, Proj proj) {
  return projected<Acc, Proj>(acc, std::move(proj));
}

namespace detail {

/// Eval mode is explicit: a predict callable that takes a run_mode gets run_mode::eval(), so
/// dropout is off (models are stateless types; the mode travels with every forward call).
template <class Predict, class Batch>
decltype(auto) predict_eval(Predict& predict, Batch& batch) {
  if constexpr (std::is_invocable_v<Predict&, Batch&, const run_mode&>)
    return predict(batch, run_mode::eval());
  else
    return predict(batch);
}

}  // namespace detail

/// Resets the accumulators, runs predict on every batch of the range in eval mode, feeds each
/// output to every accumulator and returns their results merged (a later name replaces an earlier
/// one). predict is `predict(batch, const run_mode&)` (it receives run_mode::eval()) or
/// `predict(batch)`; what it returns is what the accumulators' update() take.
template <class Batches, class Predict, class... Accumulators>
metric_set evaluate(Batches&& batches, Predict&& predict, Accumulators&&... accs) {
  static_assert(sizeof...(Accumulators) > 0, "evaluate: pass at least one accumulator");
  (accs.reset(), ...);
  for (auto&& batch : batches) {
    const auto& out = detail::predict_eval(predict, batch);
    using output = std::remove_cvref_t<decltype(out)>;
    static_assert((accumulator_for<std::remove_cvref_t<Accumulators>, output> && ...),
                  "evaluate: an accumulator has no update() for what predict returns "
                  "(wrap it with metrics::project to select the right part)");
    (accs.update(out), ...);
  }
  metric_set all;
  (all.append(accs.result()), ...);
  return all;
}

/// Each name prefixed, e.g. "val/" before logging validation metrics next to training ones.
inline metric_set with_prefix(const metric_set& m, std::string_view prefix) {
  metric_set out;
  for (const auto& e : m) out.set(std::string(prefix) + e.name, e.value);
  return out;
}

}  // namespace ctformer::metrics
