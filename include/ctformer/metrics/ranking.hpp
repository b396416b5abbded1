// Ranking metrics with scikit-learn's semantics: NDCG@k as ndcg_score (log2 discount
// 1 / log2(rank + 1); tied scores share the average gain of their group, McSherry & Najork
// 2008; a query whose relevances are all zero scores 0) and MAP as the mean over queries of
// average_precision_score (a query with no relevant document scores 0). Scores must be finite;
// relevances must be >= 0 (sklearn >= 1.4 rejects negative ones; 1.2 only warned).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "classification.hpp"
#include "core.hpp"

namespace ctformer::metrics {

namespace detail {

inline void check_query(real_view relevance, real_view scores, std::optional<std::size_t> k, std::string_view what) {
  require_same_size(relevance.size(), scores.size(), what);
  if (relevance.size() < 2)
    fail("{}: a query needs at least 2 documents to rank, got {} (as scikit-learn)", what, relevance.size());
  if (k && *k == 0) fail("{}: k must be at least 1", what);
  require_finite(scores, what);
  require_finite(relevance, what, "relevance");
  for (std::size_t i = 0; i < relevance.size(); ++i)
    if (relevance[i] < 0) fail("{}: relevance {} at index {} is negative", what, relevance[i], i);
}

/// Discount of rank j (0-based), zero past the cut-off k; computed as sklearn does.
inline std::vector<double> dcg_discounts(std::size_t n, std::optional<std::size_t> k) {
  std::vector<double> d(n);
  for (std::size_t j = 0; j < n; ++j) d[j] = (k && j >= *k) ? 0.0 : 1.0 / (std::log(double(j) + 2.0) / std::log(2.0));
  return d;
}

}  // namespace detail

/// DCG of one query, averaging the gain over every order of tied scores.
inline double dcg_query(real_view relevance, real_view scores, std::optional<std::size_t> k = std::nullopt) {
  detail::check_query(relevance, scores, k, "dcg");
  const std::size_t n = relevance.size();
  const auto disc = detail::dcg_discounts(n, k);
  std::vector<double> cum(n);
  std::partial_sum(disc.begin(), disc.end(), cum.begin());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  double dcg = 0, prev_cum = 0;
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start;
    double gain = 0;
    while (end < n && scores[order[end]] == scores[order[start]]) gain += relevance[order[end++]];
    /// The group occupies ranks [start, end): its mean gain times the sum of their discounts.
    dcg += gain / double(end - start) * (cum[end - 1] - prev_cum);
    prev_cum = cum[end - 1];
    start = end;
  }
  return dcg;
}

/// NDCG of one query: DCG over the ideal DCG (relevances sorted). All-zero relevance gives 0.
inline double ndcg_query(real_view relevance, real_view scores, std::optional<std::size_t> k = std::nullopt) {
  const double dcg = dcg_query(relevance, scores, k);
  std::vector<double> ideal = relevance.to_vector();
  std::sort(ideal.begin(), ideal.end(), std::greater<>());
  const auto disc = detail::dcg_discounts(ideal.size(), k);
  double idcg = 0;
  for (std::size_t j = 0; j < ideal.size(); ++j) idcg += disc[j] * ideal[j];
  return idcg == 0 ? 0.0 : dcg / idcg;
}

/// Mean NDCG over queries stored row-major: relevance and scores are (queries, docs).
inline double ndcg_score(real_view relevance, real_view scores, std::size_t docs,
                         std::optional<std::size_t> k = std::nullopt) {
  detail::require_same_size(relevance.size(), scores.size(), "ndcg_score");
  detail::require_nonempty(relevance.size(), "ndcg_score");
  if (docs == 0 || relevance.size() % docs != 0)
    fail("ndcg_score: {} values do not split into queries of {} documents", relevance.size(), docs);
  const std::size_t q = relevance.size() / docs;
  double s = 0;
  for (std::size_t i = 0; i < q; ++i) s += ndcg_query(relevance.subview(i * docs, docs), scores.subview(i * docs, docs), k);
  return s / double(q);
}

/// MAP over queries stored row-major: binary relevance and scores are (queries, docs).
inline double mean_average_precision(std::span<const std::int32_t> relevance, real_view scores, std::size_t docs) {
  detail::require_same_size(relevance.size(), scores.size(), "mean_average_precision");
  detail::require_nonempty(relevance.size(), "mean_average_precision");
  if (docs == 0 || relevance.size() % docs != 0)
    fail("mean_average_precision: {} values do not split into queries of {} documents", relevance.size(), docs);
  const std::size_t q = relevance.size() / docs;
  double s = 0;
  for (std::size_t i = 0; i < q; ++i)
    s += average_precision_score(relevance.subspan(i * docs, docs), scores.subview(i * docs, docs));
  return s / double(q);
}

/// Streams queries (of any length) and keeps running sums: "ndcg", "ndcg@k" for each k, and
/// "map" when the relevances are binary. Nothing is stored between queries.
class ranking_metrics {
 public:
  /// Also reports "ndcg@k" for each k of `ndcg_at`; throws if a k is 0.
  explicit ranking_metrics(std::vector<std::size_t> ndcg_at = {}) : ks_(std::move(ndcg_at)), at_(ks_.size(), 0.0) {
    for (auto k : ks_)
      if (k == 0) fail("ranking_metrics: ndcg@0 is undefined");
  }
  /// Zeroes the sums and the query count.
  void reset() {
    queries_ = 0;
    ndcg_ = ap_ = 0;
    binary_ = true;
    std::fill(at_.begin(), at_.end(), 0.0);
  }
  /// Adds one query's NDCG, its NDCG at each k and, while every relevance is 0 or 1, average precision.
  void add_query(real_view relevance, real_view scores) {
    ndcg_ += ndcg_query(relevance, scores);
    for (std::size_t j = 0; j < ks_.size(); ++j) at_[j] += ndcg_query(relevance, scores, ks_[j]);
    std::vector<std::int32_t> rel(relevance.size());
    for (std::size_t i = 0; i < rel.size(); ++i) {
      if (relevance[i] != 0 && relevance[i] != 1) binary_ = false;
      rel[i] = relevance[i] != 0;
    }
    if (binary_) ap_ += average_precision_score(rel, scores);
    ++queries_;
  }
  /// Means over the queries: "ndcg", "ndcg@k", and "map" if every relevance was 0 or 1.
  metric_set result() const {
    detail::require_nonempty(queries_, "ranking_metrics");
    metric_set m;
    m.set("ndcg", ndcg_ / double(queries_));
    for (std::size_t j = 0; j < ks_.size(); ++j) m.set(fmt::format("ndcg@{}", ks_[j]), at_[j] / double(queries_));
    if (binary_) m.set("map", ap_ / double(queries_));
    return m;
  }

 private:
  std::vector<std::size_t> ks_;
  std::vector<double> at_;
  std::size_t queries_ = 0;
  double ndcg_ = 0, ap_ = 0;
  bool binary_ = true;  ///< MAP needs 0/1 relevance; graded relevance reports NDCG only
};

}  // namespace ctformer::metrics
