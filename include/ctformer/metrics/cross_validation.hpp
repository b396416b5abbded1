// k-fold and stratified k-fold cross-validation: fold indices (unshuffled folds equal
// scikit-learn's KFold / StratifiedKFold exactly; shuffled ones use mt19937_64 with our own
// unbiased bounded draws, so a seed gives the same folds on every platform), and a driver that
// trains a fresh model per fold through a user callable and reports mean and std per metric.
// std is the population standard deviation (ddof = 0), as numpy and sklearn's cv_results_.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core.hpp"

namespace ctformer::metrics {

/// One split: the sample indices to train on and to test on.
struct fold {
  std::vector<std::size_t> train;  ///< training sample indices, ascending
  std::vector<std::size_t> test;   ///< test sample indices, ascending
};

/// Options of k_fold and stratified_k_fold.
struct split_options {
  bool shuffle = false;    ///< shuffle the assignment of samples to folds
  std::uint64_t seed = 0;  ///< seed of the std::mt19937_64 shuffle
};

namespace detail {

/// Uniform integer in [0, n) by rejection, independent of the standard library's distributions
/// (whose algorithms are implementation-defined).
inline std::uint64_t bounded(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % n;
}

template <class T>
void fisher_yates(std::vector<T>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[bounded(rng, i)]);
}

inline std::vector<fold> folds_from_assignment(const std::vector<std::size_t>& fold_of, std::size_t k) {
  std::vector<fold> out(k);
  for (std::size_t i = 0; i < fold_of.size(); ++i)
    for (std::size_t f = 0; f < k; ++f) (f == fold_of[i] ? out[f].test : out[f].train).push_back(i);
  return out;
}

inline void check_k(std::size_t n, std::size_t k, std::string_view what) {
  if (k < 2) fail("{}: k must be at least 2, got {}", what, k);
  if (k > n) fail("{}: k = {} is greater than the number of samples ({})", what, k, n);
}

}  // namespace detail

/// Contiguous folds over 0..n-1 (after a shuffle if asked); the first n % k folds get one more.
inline std::vector<fold> k_fold(std::size_t n, std::size_t k, const split_options& o = {}) {
  detail::check_k(n, k, "k_fold");
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  if (o.shuffle) {
    std::mt19937_64 rng(o.seed);
    detail::fisher_yates(order, rng);
  }
  std::vector<std::size_t> fold_of(n);
  std::size_t pos = 0;
  for (std::size_t f = 0; f < k; ++f) {
    const std::size_t size = n / k + (f < n % k ? 1 : 0);
    for (std::size_t j = 0; j < size; ++j) fold_of[order[pos++]] = f;
  }
  return detail::folds_from_assignment(fold_of, k);
}

/// Folds that keep each class's proportion (sklearn's allocation: deal the class-sorted labels
/// round-robin over the folds, then give each class its fold slots in blocks, in data order, or
/// shuffled). Classes are taken in order of first appearance, as sklearn does.
inline std::vector<fold> stratified_k_fold(std::span<const std::int32_t> labels, std::size_t k, const split_options& o = {}) {
  const std::size_t n = labels.size();
  detail::check_k(n, k, "stratified_k_fold");
  std::vector<std::int32_t> classes;  ///< in order of first appearance
  std::vector<std::size_t> cls(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto it = std::find(classes.begin(), classes.end(), labels[i]);
    if (it == classes.end()) {
      classes.push_back(labels[i]);
      it = classes.end() - 1;
    }
    cls[i] = std::size_t(it - classes.begin());
  }
  const std::size_t c = classes.size();
  std::vector<std::size_t> count(c, 0);
  for (auto v : cls) ++count[v];
  if (std::all_of(count.begin(), count.end(), [&](std::size_t m) { return m < k; }))
    fail("stratified_k_fold: k = {} is greater than the number of members in each class", k);
  /// allocation[f][j]: members of class j in test fold f. Sorted labels dealt round-robin.
  std::vector<std::vector<std::size_t>> allocation(k, std::vector<std::size_t>(c, 0));
  std::size_t pos = 0;
  for (std::size_t j = 0; j < c; ++j)
    for (std::size_t m = 0; m < count[j]; ++m, ++pos) ++allocation[pos % k][j];
  std::mt19937_64 rng(o.seed);
  std::vector<std::size_t> fold_of(n);
  for (std::size_t j = 0; j < c; ++j) {
    std::vector<std::size_t> slots;
    for (std::size_t f = 0; f < k; ++f) slots.insert(slots.end(), allocation[f][j], f);
    if (o.shuffle) detail::fisher_yates(slots, rng);
    std::size_t s = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (cls[i] == j) fold_of[i] = slots[s++];
  }
  return detail::folds_from_assignment(fold_of, k);
}

/// One metric's statistics over the folds.
struct metric_summary {
  std::string name;  ///< metric name
  double mean = 0;  ///< mean over the folds
  double std = 0;   ///< population standard deviation over the folds
  double min = 0;   ///< smallest fold value
  double max = 0;   ///< largest fold value
};

/// What cross_validate returns: the metrics of each fold and their summary.
struct cv_result {
  std::vector<metric_set> folds;        ///< one per fold, in fold order
  std::vector<metric_summary> summary;  ///< one per metric, in the folds' order

  /// The summary of metric `name`; throws if there is none.
  const metric_summary& at(std::string_view name) const {
    for (const auto& s : summary)
      if (s.name == name) return s;
    fail("cv_result: no metric named \"{}\"", name);
  }
};

/// Mean, population std, min and max of each metric over folds. Every fold must report the
/// same metrics: a metric missing from one fold is an error, not a silent smaller average.
inline cv_result summarize_folds(std::vector<metric_set> folds) {
  if (folds.empty()) fail("cross_validate: no fold");
  cv_result r;
  for (const auto& e : folds.front()) {
    metric_summary s;
    s.name = e.name;
    s.min = s.max = e.value;
    for (std::size_t f = 0; f < folds.size(); ++f) {
      const auto v = folds[f].find(e.name);
      if (!v) fail("cross_validate: fold {} does not report \"{}\" (fold 0 does)", f, e.name);
      s.mean += *v;
      s.min = std::min(s.min, *v);
      s.max = std::max(s.max, *v);
    }
    s.mean /= double(folds.size());
    double ss = 0;
    for (const auto& fs : folds) ss += (fs.at(e.name) - s.mean) * (fs.at(e.name) - s.mean);
    s.std = std::sqrt(ss / double(folds.size()));
    r.summary.push_back(std::move(s));
  }
  for (std::size_t f = 1; f < folds.size(); ++f)
    if (folds[f].size() != folds.front().size())
      fail("cross_validate: fold {} reports {} metrics, fold 0 reports {}", f, folds[f].size(), folds.front().size());
  r.folds = std::move(folds);
  return r;
}

/// Runs `train_and_score(const fold&, std::size_t fold_index) -> metric_set` once per fold. The
/// callable must build a fresh model from the fold's training indices only, train it, and score
/// it on the fold's test indices.
template <class TrainAndScore>
cv_result cross_validate(std::span<const fold> folds, TrainAndScore&& train_and_score) {
  std::vector<metric_set> results;
  for (std::size_t i = 0; i < folds.size(); ++i) results.push_back(train_and_score(folds[i], i));
  return summarize_folds(std::move(results));
}

/// The same with the fresh model made explicit: `make_model()` builds an untrained model (a value
/// or a std::unique_ptr) for every fold, and `train_and_score(model, fold, fold_index)` trains
/// and scores it. No state can leak from one fold to the next through the model.
template <class MakeModel, class TrainAndScore>
cv_result cross_validate(std::span<const fold> folds, MakeModel&& make_model, TrainAndScore&& train_and_score) {
  return cross_validate(folds, [&](const fold& f, std::size_t i) {
    auto model = make_model();
    return train_and_score(model, f, i);
  });
}

}  // namespace ctformer::metrics
