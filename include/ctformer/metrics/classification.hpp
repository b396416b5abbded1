// Classification metrics with scikit-learn 1.2's semantics: accuracy, precision / recall / F-beta
// (binary, micro, macro, weighted; zero_division), the confusion matrix as an aligned table,
// ROC curve and AUC (ties grouped as sklearn), precision-recall curve, average precision
// AP = sum_n (R_n - R_{n-1}) P_n, one-vs-rest multiclass AUC and top-k accuracy.
// Labels are class indices 0..C-1. Scores must be finite; NaN or infinity throws, as in sklearn.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core.hpp"

namespace ctformer::metrics {

// ---- confusion matrix ---------------------------------------------------------------------

/// counts(t, p): how many samples of true class t were predicted as p. Streaming: O(C^2) memory.
class confusion_matrix {
 public:
  confusion_matrix() = default;
  /// A num_classes x num_classes matrix of zeros; throws if num_classes is 0.
  explicit confusion_matrix(std::size_t num_classes) : c_(num_classes), counts_(num_classes * num_classes, 0) {
    if (num_classes == 0) fail("confusion_matrix: the number of classes must be at least 1");
  }
  /// From label arrays; num_classes == 0 means max label + 1.
  static confusion_matrix from_labels(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                                      std::size_t num_classes = 0) {
    detail::require_same_size(y_true.size(), y_pred.size(), "confusion_matrix");
    if (num_classes == 0) {
      std::int32_t hi = -1;
      for (auto v : y_true) hi = std::max(hi, v);
      for (auto v : y_pred) hi = std::max(hi, v);
      num_classes = std::size_t(std::max(hi, std::int32_t(0))) + 1;
    }
    confusion_matrix cm(num_classes);
    cm.add(y_true, y_pred);
    return cm;
  }

  /// Counts one sample; throws if a label is outside [0, num_classes).
  void add(std::int32_t truth, std::int32_t pred) {
    check(truth, "true label");
    check(pred, "predicted label");
    ++counts_[std::size_t(truth) * c_ + std::size_t(pred)];
    ++total_;
  }
  /// Counts each pair (y_true[i], y_pred[i]); the arrays must have the same length.
  void add(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred) {
    detail::require_same_size(y_true.size(), y_pred.size(), "confusion_matrix");
    for (std::size_t i = 0; i < y_true.size(); ++i) add(y_true[i], y_pred[i]);
  }
  /// Adds the counts of a matrix with the same number of classes.
  void merge(const confusion_matrix& o) {
    if (o.c_ != c_) fail("confusion_matrix: cannot merge {} classes into {}", o.c_, c_);
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
  }
  /// Sets every count to 0.
  void reset() {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
  }

  /// Number of classes C.
  std::size_t num_classes() const noexcept { return c_; }
  /// Number of samples counted.
  std::uint64_t total() const noexcept { return total_; }
  /// Samples of true class `truth` predicted as `pred`; no bounds check.
  std::uint64_t count(std::size_t truth, std::size_t pred) const { return counts_[truth * c_ + pred]; }
  std::uint64_t true_count(std::size_t c) const {  ///< row sum: the support of class c
    std::uint64_t s = 0;
    for (std::size_t p = 0; p < c_; ++p) s += count(c, p);
    return s;
  }
  std::uint64_t predicted_count(std::size_t c) const {  ///< column sum
    std::uint64_t s = 0;
    for (std::size_t t = 0; t < c_; ++t) s += count(t, c);
    return s;
  }
  /// Diagonal sum: the correctly predicted samples.
  std::uint64_t correct() const {
    std::uint64_t s = 0;
    for (std::size_t c = 0; c < c_; ++c) s += count(c, c);
    return s;
  }

 private:
  void check(std::int32_t v, const char* what) const {
    if (v < 0 || std::size_t(v) >= c_) fail("confusion_matrix: {} {} is outside [0, {})", what, v, c_);
  }
  std::size_t c_ = 0;
  std::vector<std::uint64_t> counts_;  ///< (C, C) row-major, rows = truth
  std::uint64_t total_ = 0;
};

inline double accuracy(const confusion_matrix& cm) {
  detail::require_nonempty(cm.total(), "accuracy");
  return double(cm.correct()) / double(cm.total());
}

inline double accuracy_score(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred) {
  detail::require_same_size(y_true.size(), y_pred.size(), "accuracy_score");
  detail::require_nonempty(y_true.size(), "accuracy_score");
  std::size_t hit = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) hit += y_true[i] == y_pred[i];
  return double(hit) / double(y_true.size());
}

/// The table, with class names (or indices) on both axes, right-aligned columns.
inline std::string format_confusion_matrix(const confusion_matrix& cm, std::span<const std::string> names = {}) {
  const std::size_t c = cm.num_classes();
  if (!names.empty() && names.size() != c)
    fail("format_confusion_matrix: {} names for {} classes", names.size(), c);
  auto name = [&](std::size_t i) { return names.empty() ? std::to_string(i) : names[i]; };
  const std::string corner = "true \\ predicted";
  std::size_t w0 = corner.size();
  for (std::size_t i = 0; i < c; ++i) w0 = std::max(w0, name(i).size());
  std::vector<std::size_t> w(c);
  for (std::size_t p = 0; p < c; ++p) {
    w[p] = name(p).size();
    for (std::size_t t = 0; t < c; ++t) w[p] = std::max(w[p], std::to_string(cm.count(t, p)).size());
  }
  std::string out = fmt::format("{:<{}}", corner, w0);
  for (std::size_t p = 0; p < c; ++p) out += fmt::format("  {:>{}}", name(p), w[p]);
  out += '\n';
  for (std::size_t t = 0; t < c; ++t) {
    out += fmt::format("{:<{}}", name(t), w0);
    for (std::size_t p = 0; p < c; ++p) out += fmt::format("  {:>{}}", cm.count(t, p), w[p]);
    out += '\n';
  }
  return out;
}

// ---- precision, recall, F-beta ------------------------------------------------------------

enum class average { binary, micro, macro, weighted };
/// Value of a ratio whose denominator is 0 (sklearn's zero_division; its default "warn" is 0).
enum class zero_division { zero, one };
/// Which classes macro/weighted/micro run over: those that occur in y_true or y_pred (sklearn's
/// default, labels=None), or all num_classes (sklearn's labels=range(C)), where a class that never
/// occurs scores 0 and so lowers the macro average.
enum class label_set { present, all };

/// Options of per_class_scores, precision_recall_fscore and the scores built on it.
struct prf_options {
  double beta = 1.0;                            ///< F-beta; 1 gives F1
  zero_division on_zero = zero_division::zero;  ///< value of a ratio whose denominator is 0
  label_set labels = label_set::present;        ///< classes that micro, macro and weighted averages run over
  std::int32_t pos_label = 1;                   ///< for average::binary
};

/// Precision, recall and F-beta under one averaging.
struct prf_result {
  double precision = 0;  ///< precision under the averaging
  double recall = 0;     ///< recall under the averaging
  double f_score = 0;    ///< F-beta under the averaging
};

/// Precision, recall, F-beta and support of each scored class.
struct per_class_result {
  std::vector<std::size_t> labels;  ///< the classes scored, ascending
  std::vector<double> precision;  ///< precision of each scored class
  std::vector<double> recall;     ///< recall of each scored class
  std::vector<double> f_score;    ///< F-beta of each scored class
  std::vector<std::uint64_t> support;  ///< true count of each class
};

namespace detail {

inline double prf_divide(double num, double den, zero_division z) {
  if (den == 0.0) return z == zero_division::one ? 1.0 : 0.0;
  return num / den;
}

/// sklearn 1.2: F = (1 + b^2) P R / (b^2 P + R), and 0 where that denominator is 0.
inline double f_beta(double p, double r, double beta) {
  if (std::isinf(beta)) return r;
  const double b2 = beta * beta;
  const double den = b2 * p + r;
  return (1 + b2) * p * r / (den == 0.0 ? 1.0 : den);
}

inline std::vector<std::size_t> scored_labels(const confusion_matrix& cm, label_set which) {
  std::vector<std::size_t> out;
  for (std::size_t c = 0; c < cm.num_classes(); ++c)
    if (which == label_set::all || cm.true_count(c) + cm.predicted_count(c) > 0) out.push_back(c);
  return out;
}

}  // namespace detail

inline per_class_result per_class_scores(const confusion_matrix& cm, const prf_options& o = {}) {
  detail::require_nonempty(cm.total(), "per_class_scores");
  if (o.beta < 0) fail("per_class_scores: beta must be >= 0, got {}", o.beta);
  per_class_result r;
  r.labels = detail::scored_labels(cm, o.labels);
  for (std::size_t c : r.labels) {
    const double tp = double(cm.count(c, c));
    const double p = detail::prf_divide(tp, double(cm.predicted_count(c)), o.on_zero);
    const double rc = detail::prf_divide(tp, double(cm.true_count(c)), o.on_zero);
    r.precision.push_back(p);
    r.recall.push_back(rc);
    r.f_score.push_back(detail::f_beta(p, rc, o.beta));
    r.support.push_back(cm.true_count(c));
  }
  return r;
}

inline prf_result precision_recall_fscore(const confusion_matrix& cm, average avg, const prf_options& o = {}) {
  detail::require_nonempty(cm.total(), "precision_recall_fscore");
  if (o.beta < 0) fail("precision_recall_fscore: beta must be >= 0, got {}", o.beta);
  const std::size_t c = cm.num_classes();
  if (avg == average::binary) {
    // sklearn: binary averaging needs at most two classes, 0 and 1 here.
    for (std::size_t k = 2; k < c; ++k)
      if (cm.true_count(k) + cm.predicted_count(k) > 0)
        fail("precision_recall_fscore: average=binary but class {} occurs (labels must be 0 or 1); "
             "use micro, macro or weighted averaging",
             k);
    const std::size_t pos = std::size_t(o.pos_label);
    if (o.pos_label < 0 || o.pos_label > 1)
      fail("precision_recall_fscore: pos_label must be 0 or 1, got {}", o.pos_label);
    /// A class index beyond num_classes has no samples: its counts are 0.
    const double tp = pos < c ? double(cm.count(pos, pos)) : 0.0;
    const double pred = pos < c ? double(cm.predicted_count(pos)) : 0.0;
    const double tru = pos < c ? double(cm.true_count(pos)) : 0.0;
    prf_result r;
    r.precision = detail::prf_divide(tp, pred, o.on_zero);
    r.recall = detail::prf_divide(tp, tru, o.on_zero);
    r.f_score = detail::f_beta(r.precision, r.recall, o.beta);
    return r;
  }
  const auto labels = detail::scored_labels(cm, o.labels);
  if (avg == average::micro) {
    double tp = 0, pred = 0, tru = 0;
    for (std::size_t k : labels) {
      tp += double(cm.count(k, k));
      pred += double(cm.predicted_count(k));
      tru += double(cm.true_count(k));
    }
    prf_result r;
    r.precision = detail::prf_divide(tp, pred, o.on_zero);
    r.recall = detail::prf_divide(tp, tru, o.on_zero);
    r.f_score = detail::f_beta(r.precision, r.recall, o.beta);
    return r;
  }
  const per_class_result pc = per_class_scores(cm, o);
  const double zd = o.on_zero == zero_division::one ? 1.0 : 0.0;
  if (avg == average::weighted) {
    std::uint64_t wsum = 0, psum = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      wsum += pc.support[i];
      psum += cm.predicted_count(labels[i]);
    }
    if (wsum == 0) {  // no true samples among the scored labels: sklearn's special case
      if (psum == 0) return {zd, zd, zd};
      return {0.0, zd, 0.0};
    }
    prf_result r;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const double w = double(pc.support[i]);
      r.precision += w * pc.precision[i];
      r.recall += w * pc.recall[i];
      r.f_score += w * pc.f_score[i];
    }
    r.precision /= double(wsum);
    r.recall /= double(wsum);
    r.f_score /= double(wsum);
    return r;
  }
  prf_result r;  ///< macro
  for (std::size_t i = 0; i < labels.size(); ++i) {
    r.precision += pc.precision[i];
    r.recall += pc.recall[i];
    r.f_score += pc.f_score[i];
  }
  const double n = double(labels.size());
  r.precision /= n;
  r.recall /= n;
  r.f_score /= n;
  return r;
}

inline double precision_score(const confusion_matrix& cm, average avg, const prf_options& o = {}) {
  return precision_recall_fscore(cm, avg, o).precision;
}
inline double recall_score(const confusion_matrix& cm, average avg, const prf_options& o = {}) {
  return precision_recall_fscore(cm, avg, o).recall;
}
inline double f1_score(const confusion_matrix& cm, average avg, prf_options o = {}) {
  o.beta = 1.0;
  return precision_recall_fscore(cm, avg, o).f_score;
}

// ---- curves from scores -------------------------------------------------------------------

/// A ROC curve: false and true positive rates at each threshold.
struct roc_curve_result {
  std::vector<double> fpr;         ///< false positive rate at each threshold
  std::vector<double> tpr;         ///< true positive rate at each threshold
  std::vector<double> thresholds;  ///< thresholds decrease; thresholds[0] = max score + 1
};
/// A precision-recall curve: precision and recall at each threshold.
struct pr_curve_result {
  std::vector<double> precision;   ///< precision at each threshold, then 1 at the last point
  std::vector<double> recall;      ///< recall at each threshold (decreasing), then 0 at the last point
  std::vector<double> thresholds;  ///< the distinct scores, ascending: one fewer than the points
};

namespace detail {

struct binary_counts {
  std::vector<double> fps, tps, thresholds;  ///< one entry per distinct score, descending
};

/// sklearn's _binary_clf_curve: sort by score descending, and at the end of each run of equal
/// scores count the true and false positives above or at that score. Tied samples move together,
/// which is how ties enter ROC and PR curves.
inline binary_counts binary_clf_curve(std::span<const std::int32_t> y_true, real_view y_score, std::string_view what) {
  require_same_size(y_true.size(), y_score.size(), what);
  require_nonempty(y_true.size(), what);
  require_binary_labels(y_true, what);
  require_finite(y_score, what);
  const std::size_t n = y_true.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return y_score[a] > y_score[b]; });
  binary_counts r;
  double tp = 0;
  for (std::size_t i = 0; i < n; ++i) {
    tp += y_true[order[i]];
    const bool last_of_run = i + 1 == n || y_score[order[i + 1]] != y_score[order[i]];
    if (last_of_run) {
      r.tps.push_back(tp);
      r.fps.push_back(double(i + 1) - tp);
      r.thresholds.push_back(y_score[order[i]]);
    }
  }
  return r;
}

}  // namespace detail

/// The ROC curve. drop_intermediate removes points collinear with their neighbours (sklearn's
/// default); they never change the area. With no negatives (or no positives) fpr (or tpr) is
/// NaN everywhere, as sklearn returns with a warning.
inline roc_curve_result roc_curve(std::span<const std::int32_t> y_true, real_view y_score, bool drop_intermediate = true) {
  auto c = detail::binary_clf_curve(y_true, y_score, "roc_curve");
  if (drop_intermediate && c.fps.size() > 2) {
    /// Keep a point where the second difference of fps or tps is nonzero: a corner.
    detail::binary_counts kept;
    const std::size_t m = c.fps.size();
    for (std::size_t i = 0; i < m; ++i) {
      const bool corner = i == 0 || i + 1 == m || (c.fps[i + 1] - 2 * c.fps[i] + c.fps[i - 1]) != 0 ||
                          (c.tps[i + 1] - 2 * c.tps[i] + c.tps[i - 1]) != 0;
      if (corner) {
        kept.fps.push_back(c.fps[i]);
        kept.tps.push_back(c.tps[i]);
        kept.thresholds.push_back(c.thresholds[i]);
      }
    }
    c = std::move(kept);
  }
  roc_curve_result r;
  const double fp_total = c.fps.back(), tp_total = c.tps.back();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  /// The extra first point (0, 0): a threshold above every score (sklearn 1.2 uses max + 1;
  /// sklearn >= 1.3 uses +inf).
  r.thresholds.push_back(c.thresholds.front() + 1);
  r.fpr.push_back(fp_total > 0 ? 0.0 : nan);
  r.tpr.push_back(tp_total > 0 ? 0.0 : nan);
  for (std::size_t i = 0; i < c.fps.size(); ++i) {
    r.thresholds.push_back(c.thresholds[i]);
    r.fpr.push_back(fp_total > 0 ? c.fps[i] / fp_total : nan);
    r.tpr.push_back(tp_total > 0 ? c.tps[i] / tp_total : nan);
  }
  return r;
}

/// Area under a curve by the trapezoidal rule; x must be monotone (either direction).
inline double auc(real_view x, real_view y) {
  detail::require_same_size(x.size(), y.size(), "auc");
  if (x.size() < 2) fail("auc: at least 2 points are needed, got {}", x.size());
  bool inc = true, dec = true;
  for (std::size_t i = 1; i < x.size(); ++i) {
    if (x[i] < x[i - 1]) inc = false;
    if (x[i] > x[i - 1]) dec = false;
  }
  if (!inc && !dec) fail("auc: x is neither increasing nor decreasing");
  double area = 0;
  for (std::size_t i = 1; i < x.size(); ++i) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
  return inc ? area : -area;
}

/// Binary ROC AUC. One class only in y_true: an error, as in sklearn.
inline double roc_auc_score(std::span<const std::int32_t> y_true, real_view y_score) {
  detail::require_nonempty(y_true.size(), "roc_auc_score");
  detail::require_binary_labels(y_true, "roc_auc_score");
  const bool has0 = std::find(y_true.begin(), y_true.end(), 0) != y_true.end();
  const bool has1 = std::find(y_true.begin(), y_true.end(), 1) != y_true.end();
  if (!has0 || !has1)
    fail("roc_auc_score: only one class ({}) present in y_true; ROC AUC is not defined in that case", has1 ? 1 : 0);
  const auto r = roc_curve(y_true, y_score, true);
  return auc(r.fpr, r.tpr);
}

/// Precision and recall at every distinct score, reversed so recall decreases, then the point
/// (precision 1, recall 0). With no positive sample recall is 1 everywhere (sklearn's choice).
inline pr_curve_result precision_recall_curve(std::span<const std::int32_t> y_true, real_view y_score) {
  const auto c = detail::binary_clf_curve(y_true, y_score, "precision_recall_curve");
  const double tp_total = c.tps.back();
  pr_curve_result r;
  for (std::size_t j = c.tps.size(); j-- > 0;) {
    const double ps = c.tps[j] + c.fps[j];
    r.precision.push_back(ps != 0 ? c.tps[j] / ps : 0.0);
    r.recall.push_back(tp_total == 0 ? 1.0 : c.tps[j] / tp_total);
    r.thresholds.push_back(c.thresholds[j]);
  }
  r.precision.push_back(1.0);
  r.recall.push_back(0.0);
  return r;
}

/// AP = sum_n (R_n - R_{n-1}) P_n: no interpolation. 0 when y_true has no positive (sklearn).
inline double average_precision_score(std::span<const std::int32_t> y_true, real_view y_score) {
  const auto r = precision_recall_curve(y_true, y_score);
  double s = 0;
  for (std::size_t i = 0; i + 1 < r.recall.size(); ++i) s -= (r.recall[i + 1] - r.recall[i]) * r.precision[i];
  return s;
}

// ---- multiclass scores ---------------------------------------------------------------------

enum class multiclass_average { macro, weighted, micro };

/// One-vs-rest ROC AUC over (rows, C) probabilities that sum to 1 per row (sklearn checks this
/// with np.allclose). Every class must occur in y_true, and not alone.
inline double roc_auc_ovr_score(std::span<const std::int32_t> y_true, real_view probs, std::size_t num_classes,
                                multiclass_average avg = multiclass_average::macro) {
  constexpr std::string_view what = "roc_auc_ovr_score";
  detail::require_nonempty(y_true.size(), what);
  if (num_classes < 2) fail("{}: needs at least 2 classes, got {}", what, num_classes);
  if (probs.size() != y_true.size() * num_classes)
    fail("{}: scores hold {} values, expected rows x classes = {} x {}", what, probs.size(), y_true.size(), num_classes);
  detail::require_labels_below(y_true, num_classes, what);
  detail::require_finite(probs, what);
  const std::size_t n = y_true.size();
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::size_t c = 0; c < num_classes; ++c) s += probs[i * num_classes + c];
    if (!(std::abs(1.0 - s) <= 1e-8 + 1e-5 * std::abs(s)))
      fail("{}: scores of row {} sum to {}, not 1; multiclass ROC AUC needs probabilities", what, i, s);
  }
  std::vector<std::size_t> support(num_classes, 0);
  for (auto y : y_true) ++support[std::size_t(y)];
  for (std::size_t c = 0; c < num_classes; ++c)
    if (support[c] == 0 || support[c] == n)
      fail("{}: class {} {} in y_true; one-vs-rest ROC AUC needs every class present and not alone", what, c,
           support[c] == 0 ? "never occurs" : "is the only class");
  std::vector<std::int32_t> yc;
  std::vector<double> sc;
  if (avg == multiclass_average::micro) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < num_classes; ++c) {
        yc.push_back(std::size_t(y_true[i]) == c);
        sc.push_back(probs[i * num_classes + c]);
      }
    return roc_auc_score(yc, sc);
  }
  double total = 0;
  yc.resize(n);
  sc.resize(n);
  for (std::size_t c = 0; c < num_classes; ++c) {
    for (std::size_t i = 0; i < n; ++i) {
      yc[i] = std::size_t(y_true[i]) == c;
      sc[i] = probs[i * num_classes + c];
    }
    const double a = roc_auc_score(yc, sc);
    total += avg == multiclass_average::weighted ? a * double(support[c]) : a;
  }
  return avg == multiclass_average::weighted ? total / double(n) : total / double(num_classes);
}

/// Whether class `truth` is among the k best of a score row. Ties rank the higher class index
/// first, as sklearn (a stable ascending argsort, reversed).
inline bool in_top_k(real_view row, std::size_t truth, std::size_t k) {
  const double s = row[truth];
  std::size_t ahead = 0;
  for (std::size_t j = 0; j < row.size(); ++j)
    if (row[j] > s || (row[j] == s && j > truth)) ++ahead;
  return ahead < k;
}

inline double top_k_accuracy_score(std::span<const std::int32_t> y_true, real_view scores, std::size_t num_classes,
                                   std::size_t k) {
  constexpr std::string_view what = "top_k_accuracy_score";
  detail::require_nonempty(y_true.size(), what);
  if (k == 0) fail("{}: k must be at least 1", what);
  if (scores.size() != y_true.size() * num_classes)
    fail("{}: scores hold {} values, expected rows x classes = {} x {}", what, scores.size(), y_true.size(), num_classes);
  detail::require_labels_below(y_true, num_classes, what);
  detail::require_finite(scores, what);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i)
    hits += in_top_k(scores.subview(i * num_classes, num_classes), std::size_t(y_true[i]), k);
  return double(hits) / double(y_true.size());
}

/// First index of the largest score (np.argmax). Scores must be finite.
inline std::size_t argmax(real_view row) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < row.size(); ++j)
    if (row[j] > row[best]) best = j;
  return best;
}

// ---- streaming accumulators for the evaluation loop -----------------------------------------

/// Options of classification_metrics.
struct classification_options {
  std::vector<std::size_t> top_k;        ///< e.g. {5}: adds "top5_accuracy"
  prf_options prf;                       ///< label set, zero_division, beta for "f1_*" is forced to 1
  std::vector<std::string> class_names;  ///< for per-class entries and the confusion table
  bool per_class = false;                ///< adds "precision/<name>", "recall/<name>", "f1/<name>"
};

/// Streams predictions into a confusion matrix plus top-k hit counts: memory O(C^2), no
/// prediction is stored. Reports accuracy, precision/recall/F1 (macro, weighted, micro; and binary
/// for two classes) and top-k accuracies.
class classification_metrics {
 public:
  /// Empty accumulator over num_classes classes; throws if a top_k is 0 or class_names has the wrong size.
  explicit classification_metrics(std::size_t num_classes, classification_options opts = {})
      : cm_(num_classes), opts_(std::move(opts)), top_hits_(opts_.top_k.size(), 0) {
    for (auto k : opts_.top_k)
      if (k == 0) fail("classification_metrics: top-k with k = 0");
    if (!opts_.class_names.empty() && opts_.class_names.size() != num_classes)
      fail("classification_metrics: {} class names for {} classes", opts_.class_names.size(), num_classes);
  }

  /// Clears the confusion matrix and the top-k counts.
  void reset() {
    cm_.reset();
    std::fill(top_hits_.begin(), top_hits_.end(), 0);
    top_rows_ = 0;
  }

  /// The prediction is the argmax of each row's scores.
  void update(const class_output& out) {
    const std::size_t c = cm_.num_classes();
    if (out.num_classes != c) fail("classification_metrics: batch has {} classes, expected {}", out.num_classes, c);
    if (out.scores.size() != out.labels.size() * c)
      fail("classification_metrics: {} scores for {} rows of {} classes", out.scores.size(), out.labels.size(), c);
    for (std::size_t i = 0; i < out.labels.size(); ++i) {
      if (out.labels[i] == ignore_index) continue;
      const real_view row = out.scores.subview(i * c, c);
      detail::require_finite(row, "classification_metrics");
      cm_.add(out.labels[i], std::int32_t(argmax(row)));
      for (std::size_t j = 0; j < opts_.top_k.size(); ++j) top_hits_[j] += in_top_k(row, std::size_t(out.labels[i]), opts_.top_k[j]);
      ++top_rows_;
    }
  }
  /// A single hard prediction (top-k needs scores, so such rows do not count there).
  void add(std::int32_t truth, std::int32_t pred) { cm_.add(truth, pred); }

  /// The confusion matrix accumulated so far.
  const confusion_matrix& confusion() const noexcept { return cm_; }

  /// "accuracy", precision/recall/F1 (binary for 2 classes, macro, weighted), "f1_micro"; top-k and
  /// per-class entries as configured.
  metric_set result() const {
    metric_set m;
    m.set("accuracy", accuracy(cm_));
    prf_options o = opts_.prf;
    o.beta = 1.0;
    if (cm_.num_classes() == 2) {
      const auto b = precision_recall_fscore(cm_, average::binary, o);
      m.set("precision", b.precision);
      m.set("recall", b.recall);
      m.set("f1", b.f_score);
    }
    const auto ma = precision_recall_fscore(cm_, average::macro, o);
    m.set("precision_macro", ma.precision);
    m.set("recall_macro", ma.recall);
    m.set("f1_macro", ma.f_score);
    const auto w = precision_recall_fscore(cm_, average::weighted, o);
    m.set("precision_weighted", w.precision);
    m.set("recall_weighted", w.recall);
    m.set("f1_weighted", w.f_score);
    m.set("f1_micro", precision_recall_fscore(cm_, average::micro, o).f_score);
    for (std::size_t j = 0; j < opts_.top_k.size(); ++j) {
      if (top_rows_ == 0) fail("classification_metrics: top-k accuracy needs scored rows, got none");
      m.set(fmt::format("top{}_accuracy", opts_.top_k[j]), double(top_hits_[j]) / double(top_rows_));
    }
    if (opts_.per_class) {
      const auto pc = per_class_scores(cm_, o);
      for (std::size_t i = 0; i < pc.labels.size(); ++i) {
        const std::size_t c = pc.labels[i];
        const std::string name = opts_.class_names.empty() ? std::to_string(c) : opts_.class_names[c];
        m.set("precision/" + name, pc.precision[i]);
        m.set("recall/" + name, pc.recall[i]);
        m.set("f1/" + name, pc.f_score[i]);
      }
    }
    return m;
  }

 private:
  confusion_matrix cm_;
  classification_options opts_;
  std::vector<std::uint64_t> top_hits_;
  std::uint64_t top_rows_ = 0;
};

/// Keeps every score, because ROC and PR curves rank the whole evaluation set: memory O(rows)
/// for two classes, O(rows x C) for more. Binary: the positive score is s1 - s0 for logits (the
/// log-odds of class 1) or p1 for probabilities, or the single column when C is 1 column wide.
/// Multiclass: softmax probabilities (or the given ones) for one-vs-rest AUC.
class score_metrics {
 public:
  /// What the score columns hold.
  enum class input { logits, probabilities };

  /// Empty accumulator over num_classes (at least 2) classes whose scores are of kind `kind`.
  explicit score_metrics(std::size_t num_classes, input kind = input::logits) : c_(num_classes), kind_(kind) {
    if (num_classes < 2) fail("score_metrics: needs at least 2 classes, got {}", num_classes);
  }

  /// Drops every stored label and score.
  void reset() {
    labels_.clear();
    scores_.clear();
  }

  /// `out.num_classes` may be 1 for a binary model that emits one score per row.
  void update(const class_output& out) {
    const std::size_t w = out.num_classes;
    if (!(w == c_ || (c_ == 2 && w == 1)))
      fail("score_metrics: batch has {} score columns, expected {}", w, c_);
    if (out.scores.size() != out.labels.size() * w)
      fail("score_metrics: {} scores for {} rows of {} columns", out.scores.size(), out.labels.size(), w);
    for (std::size_t i = 0; i < out.labels.size(); ++i) {
      if (out.labels[i] == ignore_index) continue;
      if (out.labels[i] < 0 || std::size_t(out.labels[i]) >= c_)
        fail("score_metrics: label {} is outside [0, {})", out.labels[i], c_);
      const real_view row = out.scores.subview(i * w, w);
      detail::require_finite(row, "score_metrics");
      labels_.push_back(out.labels[i]);
      if (c_ == 2) {
        scores_.push_back(w == 1 ? row[0] : kind_ == input::logits ? row[1] - row[0] : row[1]);
      } else if (kind_ == input::probabilities) {
        for (std::size_t j = 0; j < c_; ++j) scores_.push_back(row[j]);
      } else {
        const double mx = row[argmax(row)];
        double z = 0;
        for (std::size_t j = 0; j < c_; ++j) z += std::exp(row[j] - mx);
        for (std::size_t j = 0; j < c_; ++j) scores_.push_back(std::exp(row[j] - mx) / z);
      }
    }
  }
  /// One binary sample with its positive-class score.
  void add(std::int32_t label, double positive_score) {
    if (c_ != 2) fail("score_metrics: add(label, score) is for binary problems");
    labels_.push_back(label);
    scores_.push_back(positive_score);
  }

  /// Labels of the stored rows.
  std::span<const std::int32_t> labels() const noexcept { return labels_; }
  /// Stored scores: one positive-class score per row for 2 classes, C probabilities per row for more.
  std::span<const double> scores() const noexcept { return scores_; }
  /// ROC curve of the stored scores; binary problems only.
  roc_curve_result roc(bool drop_intermediate = true) const {
    require_binary("roc");
    return roc_curve(labels_, scores_, drop_intermediate);
  }
  /// Precision-recall curve of the stored scores; binary problems only.
  pr_curve_result pr() const {
    require_binary("pr");
    return precision_recall_curve(labels_, scores_);
  }

  /// "roc_auc" and "average_precision" for 2 classes; "roc_auc_ovr_macro" and "_weighted" for more.
  metric_set result() const {
    metric_set m;
    if (c_ == 2) {
      m.set("roc_auc", roc_auc_score(labels_, scores_));
      m.set("average_precision", average_precision_score(labels_, scores_));
    } else {
      m.set("roc_auc_ovr_macro", roc_auc_ovr_score(labels_, scores_, c_, multiclass_average::macro));
      m.set("roc_auc_ovr_weighted", roc_auc_ovr_score(labels_, scores_, c_, multiclass_average::weighted));
    }
    return m;
  }

 private:
  void require_binary(const char* what) const {
    if (c_ != 2) fail("score_metrics::{}: curves are for binary problems ({} classes here)", what, c_);
  }
  std::size_t c_;
  input kind_;
  std::vector<std::int32_t> labels_;
  std::vector<double> scores_;
};

}  // namespace ctformer::metrics
