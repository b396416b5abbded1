// scikit-learn's function signatures (1.2), for users who know them: (y_true, y_pred) or
// (y_true, y_score) arrays with any integer labels, an optional labels list (order and subset),
// sample weights, normalize and the averaging modes, named as sklearn.metrics names them.
//   accuracy_score, confusion_matrix, precision_recall_fscore_support, precision_score,
//   recall_score, f1_score, fbeta_score, top_k_accuracy_score (also 1-D binary scores),
//   label_ranking_average_precision_score, mean_squared_error, mean_absolute_error, r2_score,
//   and perplexity from per-token log-probabilities with a mask.
// Results equal sklearn's within 1e-9 (tests/metrics/test_sklearn.cpp, fixtures written by
// sklearn itself). The streaming metrics of classification.hpp and regression.hpp stay the
// building blocks for evaluation loops.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"

namespace ctformer::metrics::sklearn {

/// sklearn's `average`: None (per label), binary, micro, macro, weighted.
enum class average { none, binary, micro, macro, weighted };
/// confusion_matrix's `normalize`: None, 'true' (rows), 'pred' (columns), 'all'.
enum class normalize { none, true_labels, predicted, all };

namespace detail {

inline void same_size(std::size_t a, std::size_t b, const char* what) {
  if (a != b) fail("{}: {} samples in y_true but {} in y_pred", what, a, b);
}
inline std::vector<double> weights_or_ones(std::span<const double> w, std::size_t n, const char* what) {
  if (w.empty()) return std::vector<double>(n, 1.0);
  if (w.size() != n) fail("{}: {} sample weights for {} samples", what, w.size(), n);
  return {w.begin(), w.end()};
}
/// Sorted distinct labels of both arrays (sklearn's unique_labels).
inline std::vector<std::int32_t> unique_labels(std::span<const std::int32_t> a, std::span<const std::int32_t> b) {
  std::vector<std::int32_t> u(a.begin(), a.end());
  u.insert(u.end(), b.begin(), b.end());
  std::sort(u.begin(), u.end());
  u.erase(std::unique(u.begin(), u.end()), u.end());
  return u;
}
inline std::ptrdiff_t index_of(const std::vector<std::int32_t>& labels, std::int32_t v) {
  const auto it = std::find(labels.begin(), labels.end(), v);
  return it == labels.end() ? -1 : it - labels.begin();
}
/// np.average(v, weights=w).
inline double weighted_mean(std::span<const double> v, std::span<const double> w, const char* what) {
  double s = 0, ws = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    s += v[i] * w[i];
    ws += w[i];
  }
  if (ws == 0) fail("{}: the weights sum to zero", what);
  return s / ws;
}

}  // namespace detail

/// accuracy_score(y_true, y_pred, normalize, sample_weight): the (weighted) share of exact hits,
/// or their (weighted) count when normalize is false.
inline double accuracy_score(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                             bool normalize = true, std::span<const double> sample_weight = {}) {
  detail::same_size(y_true.size(), y_pred.size(), "accuracy_score");
  if (y_true.empty()) fail("accuracy_score: no samples");
  const auto w = detail::weights_or_ones(sample_weight, y_true.size(), "accuracy_score");
  std::vector<double> hit(y_true.size());
  for (std::size_t i = 0; i < hit.size(); ++i) hit[i] = y_true[i] == y_pred[i] ? 1.0 : 0.0;
  if (normalize) return detail::weighted_mean(hit, w, "accuracy_score");
  double s = 0;
  for (std::size_t i = 0; i < hit.size(); ++i) s += hit[i] * w[i];
  return s;
}

/// A confusion matrix as sklearn returns it: row t, column p, in the order of `labels`.
struct confusion_result {
  std::vector<std::int32_t> labels;  ///< the labels of rows and columns, in order
  std::vector<double> values;        ///< (L, L) row-major; counts, weighted sums or fractions
  /// Value at row t (true label), column p (predicted label).
  double at(std::size_t t, std::size_t p) const { return values[t * labels.size() + p]; }
};

/// confusion_matrix(y_true, y_pred, labels, sample_weight, normalize). Without labels, the sorted
/// labels of both arrays; with them, that order and subset (samples whose true or predicted
/// label is not listed are left out; at least one listed label must occur in y_true).
/// normalize divides by row sums (true_labels), column sums (predicted) or the total; a zero
/// sum gives 0, as sklearn.
inline confusion_result confusion_matrix(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                                         std::optional<std::vector<std::int32_t>> labels = std::nullopt,
                                         std::span<const double> sample_weight = {},
                                         normalize norm = normalize::none) {
  detail::same_size(y_true.size(), y_pred.size(), "confusion_matrix");
  const auto w = detail::weights_or_ones(sample_weight, y_true.size(), "confusion_matrix");
  confusion_result r;
  r.labels = labels ? *labels : detail::unique_labels(y_true, y_pred);
  const std::size_t L = r.labels.size();
  if (labels) {
    if (L == 0) fail("confusion_matrix: 'labels' should contain at least one label");
    bool any = false;
    for (auto v : y_true) any = any || detail::index_of(r.labels, v) >= 0;
    if (!any) fail("confusion_matrix: at least one label specified must be in y_true");
  }
  r.values.assign(L * L, 0.0);
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const auto t = detail::index_of(r.labels, y_true[i]), p = detail::index_of(r.labels, y_pred[i]);
    if (t >= 0 && p >= 0) r.values[std::size_t(t) * L + std::size_t(p)] += w[i];
  }
  const auto divide = [](double x, double s) { return s == 0 ? 0.0 : x / s; };
  if (norm == normalize::true_labels) {
    for (std::size_t t = 0; t < L; ++t) {
      double s = 0;
      for (std::size_t p = 0; p < L; ++p) s += r.values[t * L + p];
      for (std::size_t p = 0; p < L; ++p) r.values[t * L + p] = divide(r.values[t * L + p], s);
    }
  } else if (norm == normalize::predicted) {
    for (std::size_t p = 0; p < L; ++p) {
      double s = 0;
      for (std::size_t t = 0; t < L; ++t) s += r.values[t * L + p];
      for (std::size_t t = 0; t < L; ++t) r.values[t * L + p] = divide(r.values[t * L + p], s);
    }
  } else if (norm == normalize::all) {
    double s = 0;
    for (double v : r.values) s += v;
    for (double& v : r.values) v = divide(v, s);
  }
  return r;
}

/// Keyword arguments of precision_recall_fscore_support and the scores built on it.
struct prf_args {
  double beta = 1.0;                                ///< weight of recall in F-beta; 1 gives F1
  std::optional<std::vector<std::int32_t>> labels;  ///< the labels to score, in order (None: all present)
  std::int32_t pos_label = 1;                       ///< the positive class of average::binary
  sklearn::average average = sklearn::average::none;  ///< how labels are averaged; none keeps per-label arrays
  std::vector<double> sample_weight;                ///< empty: every sample weighs 1
  double zero_division = 0.0;                       ///< the value of 0/0 ("warn" acts as 0)
};

/// precision, recall, F-beta and support, per label (average::none) or averaged.
struct prf_support {
  std::vector<std::int32_t> labels;             ///< the labels of the per-label arrays
  std::vector<double> precision;  ///< precision per label, or one value when averaged
  std::vector<double> recall;     ///< recall per label, or one value when averaged
  std::vector<double> fbeta;      ///< F-beta per label, or one value when averaged
  std::vector<double> support;                  ///< (weighted) true count per label; empty when averaged
};

/// precision_recall_fscore_support(y_true, y_pred, beta, labels, pos_label, average,
/// sample_weight, zero_division) with sklearn 1.2's rules, including average=binary's (binary
/// targets only; scores pos_label) and weighted averaging's zero-support special case.
inline prf_support precision_recall_fscore_support(std::span<const std::int32_t> y_true,
                                                   std::span<const std::int32_t> y_pred, const prf_args& a = {}) {
  const char* what = "precision_recall_fscore_support";
  detail::same_size(y_true.size(), y_pred.size(), what);
  if (y_true.empty()) fail("{}: no samples", what);
  if (a.beta < 0) fail("{}: beta should be >= 0, got {}", what, a.beta);
  const auto w = detail::weights_or_ones(a.sample_weight, y_true.size(), what);
  const auto present = detail::unique_labels(y_true, y_pred);
  std::vector<std::int32_t> labels = a.labels ? *a.labels : present;
  if (a.average == average::binary) {
    if (present.size() > 2) fail("{}: target is multiclass but average='binary'; choose another average", what);
    if (detail::index_of(present, a.pos_label) < 0 && present.size() >= 2)
      fail("{}: pos_label={} is not a valid label (labels present: {})", what, a.pos_label, present.size());
    labels = {a.pos_label};
  }
  const std::size_t L = labels.size();
  std::vector<double> tp(L, 0.0), pred(L, 0.0), tru(L, 0.0);
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const auto t = detail::index_of(labels, y_true[i]), p = detail::index_of(labels, y_pred[i]);
    if (t >= 0) tru[std::size_t(t)] += w[i];
    if (p >= 0) pred[std::size_t(p)] += w[i];
    if (t >= 0 && y_true[i] == y_pred[i]) tp[std::size_t(t)] += w[i];
  }
  if (a.average == average::micro) {
    double s[3] = {0, 0, 0};
    for (std::size_t k = 0; k < L; ++k) {
      s[0] += tp[k];
      s[1] += pred[k];
      s[2] += tru[k];
    }
    tp = {s[0]};
    pred = {s[1]};
    tru = {s[2]};
  }
  const std::size_t n = tp.size();
  prf_support r;
  r.labels = labels;
  const auto div = [&](double x, double y) { return y == 0 ? a.zero_division : x / y; };
  for (std::size_t k = 0; k < n; ++k) {
    const double p = div(tp[k], pred[k]), rc = div(tp[k], tru[k]);
    double f;
    if (std::isinf(a.beta)) {
      f = rc;
    } else {
      const double b2 = a.beta * a.beta, den = b2 * p + rc;
      f = (1 + b2) * p * rc / (den == 0 ? 1.0 : den);
    }
    r.precision.push_back(p);
    r.recall.push_back(rc);
    r.fbeta.push_back(f);
  }
  if (a.average == average::none) {
    r.support = tru;
    return r;
  }
  std::vector<double> weights(n, 1.0);
  if (a.average == average::weighted) {
    double ws = 0, ps = 0;
    for (std::size_t k = 0; k < n; ++k) {
      ws += tru[k];
      ps += pred[k];
    }
    if (ws == 0) {
      const double z = a.zero_division == 1.0 ? 1.0 : 0.0;
      r.precision = {ps == 0 ? z : 0.0};
      r.recall = {z};
      r.fbeta = {ps == 0 ? z : 0.0};
      return r;
    }
    weights = tru;
  }
  r.precision = {detail::weighted_mean(r.precision, weights, what)};
  r.recall = {detail::weighted_mean(r.recall, weights, what)};
  r.fbeta = {detail::weighted_mean(r.fbeta, weights, what)};
  return r;
}

/// The averaged scores (average must not be none; binary by default, as sklearn).
inline double precision_score(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                              prf_args a = {.average = average::binary}) {
  if (a.average == average::none) fail("precision_score: use precision_recall_fscore_support for per-label scores");
  return precision_recall_fscore_support(y_true, y_pred, a).precision[0];
}
inline double recall_score(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                           prf_args a = {.average = average::binary}) {
  if (a.average == average::none) fail("recall_score: use precision_recall_fscore_support for per-label scores");
  return precision_recall_fscore_support(y_true, y_pred, a).recall[0];
}
inline double fbeta_score(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                          prf_args a = {.average = average::binary}) {
  if (a.average == average::none) fail("fbeta_score: use precision_recall_fscore_support for per-label scores");
  return precision_recall_fscore_support(y_true, y_pred, a).fbeta[0];
}
inline double f1_score(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                       prf_args a = {.average = average::binary}) {
  a.beta = 1.0;
  return fbeta_score(y_true, y_pred, a);
}

/// top_k_accuracy_score(y_true, y_score, k, normalize, sample_weight): labels 0..C-1 and scores
/// (n, C) row-major; ties rank the higher class index first (sklearn's reversed stable sort). With
/// C = 1 the scores are binary decision values (y_true 0 or 1): k = 1 predicts 1 above 0.5 when
/// every score is in [0, 1], above 0 otherwise; k >= 2 always hits.
inline double top_k_accuracy_score(std::span<const std::int32_t> y_true, std::span<const double> y_score,
                                   std::size_t classes, std::size_t k = 2, bool normalize = true,
                                   std::span<const double> sample_weight = {}) {
  const char* what = "top_k_accuracy_score";
  if (classes == 0 || y_score.size() != y_true.size() * classes)
    fail("{}: {} scores for {} samples of {} classes", what, y_score.size(), y_true.size(), classes);
  if (y_true.empty()) fail("{}: no samples", what);
  const auto w = detail::weights_or_ones(sample_weight, y_true.size(), what);
  std::vector<double> hit(y_true.size(), 0.0);
  if (classes == 1) {
    const auto [lo, hi] = std::minmax_element(y_score.begin(), y_score.end());
    const double threshold = (*lo >= 0 && *hi <= 1) ? 0.5 : 0.0;
    for (std::size_t i = 0; i < y_true.size(); ++i) {
      if (y_true[i] != 0 && y_true[i] != 1) fail("{}: binary scores need labels 0 and 1, got {}", what, y_true[i]);
      hit[i] = k >= 2 ? 1.0 : double((y_score[i] > threshold ? 1 : 0) == y_true[i]);
    }
  } else {
    for (std::size_t i = 0; i < y_true.size(); ++i) {
      const std::int32_t t = y_true[i];
      if (t < 0 || std::size_t(t) >= classes) fail("{}: label {} is outside [0, {})", what, t, classes);
      // Classes ranked above t: a higher score, or an equal score and a higher index.
      std::size_t above = 0;
      const double* row = y_score.data() + i * classes;
      for (std::size_t c = 0; c < classes; ++c)
        above += row[c] > row[t] || (row[c] == row[t] && c > std::size_t(t));
      hit[i] = above < k ? 1.0 : 0.0;
    }
  }
  if (normalize) return detail::weighted_mean(hit, w, what);
  double s = 0;
  for (std::size_t i = 0; i < hit.size(); ++i) s += hit[i] * w[i];
  return s;
}

/// label_ranking_average_precision_score(y_true, y_score, sample_weight): y_true (n, L) 0/1
/// relevance and y_score (n, L), row-major. A sample whose labels are all relevant or all
/// irrelevant scores 1.
inline double label_ranking_average_precision_score(std::span<const std::int32_t> y_true,
                                                    std::span<const double> y_score, std::size_t labels,
                                                    std::span<const double> sample_weight = {}) {
  const char* what = "label_ranking_average_precision_score";
  if (labels == 0 || y_true.size() % labels || y_score.size() != y_true.size())
    fail("{}: y_true ({}) and y_score ({}) must both be (samples, {})", what, y_true.size(), y_score.size(), labels);
  const std::size_t n = y_true.size() / labels;
  if (n == 0) fail("{}: no samples", what);
  if (!sample_weight.empty() && sample_weight.size() != n)
    fail("{}: {} sample weights for {} samples", what, sample_weight.size(), n);
  double out = 0, wsum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t* rel = y_true.data() + i * labels;
    const double* s = y_score.data() + i * labels;
    std::size_t relevant = 0;
    for (std::size_t j = 0; j < labels; ++j) {
      if (rel[j] != 0 && rel[j] != 1) fail("{}: y_true must hold 0 or 1, got {}", what, rel[j]);
      relevant += std::size_t(rel[j]);
    }
    double aux = 1.0;
    if (relevant != 0 && relevant != labels) {
      aux = 0;
      for (std::size_t j = 0; j < labels; ++j) {
        if (!rel[j]) continue;
        std::size_t rank = 0, rank_rel = 0;  // labels scored at least as high: all, and relevant
        for (std::size_t m = 0; m < labels; ++m)
          if (s[m] >= s[j]) {
            ++rank;
            rank_rel += std::size_t(rel[m]);
          }
        aux += double(rank_rel) / double(rank);
      }
      aux /= double(relevant);
    }
    const double wi = sample_weight.empty() ? 1.0 : sample_weight[i];
    out += aux * wi;
    wsum += wi;
  }
  return out / wsum;
}

/// mean_squared_error(y_true, y_pred, sample_weight, squared): squared false gives the RMSE.
inline double mean_squared_error(std::span<const double> y_true, std::span<const double> y_pred,
                                 std::span<const double> sample_weight = {}, bool squared = true) {
  detail::same_size(y_true.size(), y_pred.size(), "mean_squared_error");
  if (y_true.empty()) fail("mean_squared_error: no samples");
  const auto w = detail::weights_or_ones(sample_weight, y_true.size(), "mean_squared_error");
  std::vector<double> e(y_true.size());
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = (y_true[i] - y_pred[i]) * (y_true[i] - y_pred[i]);
  const double m = detail::weighted_mean(e, w, "mean_squared_error");
  return squared ? m : std::sqrt(m);
}

/// mean_absolute_error(y_true, y_pred, sample_weight).
inline double mean_absolute_error(std::span<const double> y_true, std::span<const double> y_pred,
                                  std::span<const double> sample_weight = {}) {
  detail::same_size(y_true.size(), y_pred.size(), "mean_absolute_error");
  if (y_true.empty()) fail("mean_absolute_error: no samples");
  const auto w = detail::weights_or_ones(sample_weight, y_true.size(), "mean_absolute_error");
  std::vector<double> e(y_true.size());
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = std::abs(y_true[i] - y_pred[i]);
  return detail::weighted_mean(e, w, "mean_absolute_error");
}

/// r2_score(y_true, y_pred, sample_weight) with force_finite: a constant y_true gives 1 for a
/// perfect prediction and 0 otherwise.
inline double r2_score(std::span<const double> y_true, std::span<const double> y_pred,
                       std::span<const double> sample_weight = {}) {
  detail::same_size(y_true.size(), y_pred.size(), "r2_score");
  if (y_true.size() < 2) fail("r2_score: needs at least two samples");
  const auto w = detail::weights_or_ones(sample_weight, y_true.size(), "r2_score");
  const double mean = detail::weighted_mean(y_true, w, "r2_score");
  double num = 0, den = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    num += w[i] * (y_true[i] - y_pred[i]) * (y_true[i] - y_pred[i]);
    den += w[i] * (y_true[i] - mean) * (y_true[i] - mean);
  }
  if (den == 0) return num == 0 ? 1.0 : 0.0;
  return 1.0 - num / den;
}

/// Perplexity exp(-sum(mask * log_prob) / sum(mask)) from per-token log-probabilities (natural
/// log) and a 0/1 mask of the tokens that count (empty: all).
inline double perplexity(std::span<const double> log_probs, std::span<const std::int32_t> mask = {}) {
  if (!mask.empty() && mask.size() != log_probs.size())
    fail("perplexity: {} mask entries for {} log-probabilities", mask.size(), log_probs.size());
  double s = 0, n = 0;
  for (std::size_t i = 0; i < log_probs.size(); ++i) {
    if (!mask.empty() && mask[i] == 0) continue;
    if (!std::isfinite(log_probs[i]) && log_probs[i] != -INFINITY)
      fail("perplexity: log-probability {} at {} is not a number", log_probs[i], i);
    s += log_probs[i];
    n += 1;
  }
  if (n == 0) fail("perplexity: no token counts (the mask is all zero)");
  return std::exp(-s / n);
}

}  // namespace ctformer::metrics::sklearn
