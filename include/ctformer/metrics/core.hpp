// What every metric header shares: real_view (one read-only view over float or double data, so
// each metric has one signature), metric_set (named results, in insertion order), the views a
// predict callable hands to the evaluation loop, and input checks that throw ctformer::error.
// Metrics are runtime code over spans: they run after the training step, never inside it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../io/json.hpp"

namespace ctformer::metrics {

/// Label value that marks a row or token with no target (PyTorch's ignore_index; equal to
/// ctformer::ignore_index in data/batch.hpp, which this header does not include to stay light).
inline constexpr std::int32_t ignore_index = -100;

/// A read-only view over float or double values. Models produce float; reference data and most
/// metric arithmetic are double. Every read widens to double.
class real_view {
 public:
  real_view() = default;
  /// A view over a span of doubles.
  real_view(std::span<const double> s) : d_(s.data()), n_(s.size()) {}
  /// A view over a span of floats.
  real_view(std::span<const float> s) : f_(s.data()), n_(s.size()) {}
  /// A view over a vector's doubles.
  real_view(const std::vector<double>& v) : real_view(std::span<const double>(v)) {}
  /// A view over a vector's floats.
  real_view(const std::vector<float>& v) : real_view(std::span<const float>(v)) {}
  /// A view over the n doubles at p.
  real_view(const double* p, std::size_t n) : d_(p), n_(n) {}
  /// A view over the n floats at p.
  real_view(const float* p, std::size_t n) : f_(p), n_(n) {}

  /// Number of values.
  std::size_t size() const noexcept { return n_; }
  /// True if the view holds no value.
  bool empty() const noexcept { return n_ == 0; }
  /// Value i, widened to double; no bounds check.
  double operator[](std::size_t i) const noexcept { return f_ ? double(f_[i]) : d_[i]; }
  /// The `count` values from `offset` on, in the same element type; no bounds check.
  real_view subview(std::size_t offset, std::size_t count) const noexcept {
    real_view v;
    if (f_) v.f_ = f_ + offset;
    else v.d_ = d_ + offset;
    v.n_ = count;
    return v;
  }
  /// A copy of the values as doubles.
  std::vector<double> to_vector() const {
    std::vector<double> out(n_);
    for (std::size_t i = 0; i < n_; ++i) out[i] = (*this)[i];
    return out;
  }

 private:
  const double* d_ = nullptr;
  const float* f_ = nullptr;
  std::size_t n_ = 0;
};

/// Named metric values in the order they were added (reports print them in that order).
class metric_set {
 public:
  /// One named value.
  struct entry {
    std::string name;  ///< metric name, e.g. "accuracy"
    double value;      ///< metric value
  };

  /// Adds a value, or replaces the value of an existing name.
  void set(std::string name, double value) {
    for (auto& e : entries_)
      if (e.name == name) {
        e.value = value;
        return;
      }
    entries_.push_back({std::move(name), value});
  }
  /// Sets every value of `other`, in its order; a name already here gets the new value.
  void append(const metric_set& other) {
    for (const auto& e : other) set(e.name, e.value);
  }
  /// The value named `name`, or nullopt if the set has none.
  std::optional<double> find(std::string_view name) const {
    for (const auto& e : entries_)
      if (e.name == name) return e.value;
    return std::nullopt;
  }
  /// The value named `name`; throws ctformer::error if the set has none.
  double at(std::string_view name) const {
    if (auto v = find(name)) return *v;
    fail("metrics: no metric named \"{}\" in this set", name);
  }
  /// True if the set has a value named `name`.
  bool contains(std::string_view name) const { return find(name).has_value(); }
  /// Number of values.
  std::size_t size() const noexcept { return entries_.size(); }
  /// True if the set holds no value.
  bool empty() const noexcept { return entries_.empty(); }
  /// First entry, in insertion order.
  std::vector<entry>::const_iterator begin() const noexcept { return entries_.begin(); }
  /// Past the last entry.
  std::vector<entry>::const_iterator end() const noexcept { return entries_.end(); }

  /// {"name": value, ...}; NaN and infinities become null, as JSON has no such numbers.
  json::value to_json() const {
    json::value v = json::object{};
    for (const auto& e : entries_) v.set(e.name, e.value);
    return v;
  }

 private:
  std::vector<entry> entries_;
};

// What a predict callable returns for the evaluation loop (evaluate.hpp). Each is a view into
// the caller's buffers, valid until the next batch.

/// Class scores of one batch: `scores` is (rows, num_classes) row-major, logits or probabilities.
/// Rows whose label is ignore_index (padded rows) are skipped.
struct class_output {
  std::span<const std::int32_t> labels;  ///< (rows)
  real_view scores;                      ///< (rows, num_classes)
  std::size_t num_classes = 0;           ///< columns of `scores`
};

/// Regression values of one batch. Rows with weight 0 (padded rows) are skipped; an empty
/// `weights` means every row counts. Other weights must be 1: metrics here are unweighted.
struct regression_output {
  real_view targets;      ///< (rows)
  real_view predictions;  ///< (rows)
  real_view weights;      ///< (rows) or empty
};

/// Per-token logits of one batch, flattened: `logits` is (tokens, vocab) row-major. Tokens whose
/// target is ignore_index (padding, prompt, unmasked positions) are skipped.
struct token_output {
  std::span<const std::int32_t> targets;  ///< (tokens)
  real_view logits;                        ///< (tokens, vocab)
  std::size_t vocab = 0;                   ///< vocabulary size: columns of `logits`
};

namespace detail {

inline void require_nonempty(std::size_t n, std::string_view what) {
  if (n == 0) fail("{}: empty input (no samples); the metric is undefined", what);
}

inline void require_same_size(std::size_t a, std::size_t b, std::string_view what) {
  if (a != b) fail("{}: inputs differ in length ({} and {})", what, a, b);
}

/// scikit-learn rejects NaN and infinite scores ("Input contains NaN"); so do we, naming the index.
inline void require_finite(real_view v, std::string_view what, std::string_view name = "score") {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      fail("{}: {} at index {} is {} (scores must be finite)", what, name, i,
           std::isnan(v[i]) ? "NaN" : "infinite");
}

inline void require_binary_labels(std::span<const std::int32_t> y, std::string_view what) {
  for (std::size_t i = 0; i < y.size(); ++i)
    if (y[i] != 0 && y[i] != 1)
      fail("{}: label {} at index {} is not binary (expected 0 or 1)", what, y[i], i);
}

inline void require_labels_below(std::span<const std::int32_t> y, std::size_t num_classes,
                                 std::string_view what) {
  for (std::size_t i = 0; i < y.size(); ++i)
    if (y[i] < 0 || std::size_t(y[i]) >= num_classes)
      fail("{}: label {} at index {} is outside [0, {})", what, y[i], i, num_classes);
}

}  // namespace detail

}  // namespace ctformer::metrics
