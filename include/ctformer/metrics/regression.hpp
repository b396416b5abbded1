// Regression metrics as scikit-learn: MSE, RMSE = sqrt(MSE), MAE and R^2 = 1 - SS_res / SS_tot.
// One streaming accumulator computes all four; SS_tot comes from Welford's update, which is
// stable where sum(y^2) - n*mean^2 would cancel. R^2 edge cases follow sklearn (force_finite):
// constant targets give 1 for a perfect fit and 0 otherwise; fewer than two samples give NaN.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

#include "core.hpp"

namespace ctformer::metrics {

/// Streams (target, prediction) pairs into MSE, RMSE, MAE and R^2: memory O(1).
class regression_metrics {
 public:
  /// Forgets every sample.
  void reset() { *this = regression_metrics{}; }

  void add(double target, double prediction) {
    if (!std::isfinite(target) || !std::isfinite(prediction))
      fail("regression_metrics: {} at sample {} is {}", std::isfinite(target) ? "prediction" : "target", n_,
           std::isnan(std::isfinite(target) ? prediction : target) ? "NaN" : "infinite");
    const double e = target - prediction;
    sq_ += e * e;
    abs_ += std::abs(e);
    ++n_;
    const double d = target - mean_;  ///< Welford
    mean_ += d / double(n_);
    m2_ += d * (target - mean_);
  }

  /// Rows with weight 0 are padding and skipped; any other weight must be 1 (unweighted metrics).
  void update(const regression_output& out) {
    detail::require_same_size(out.targets.size(), out.predictions.size(), "regression_metrics");
    if (!out.weights.empty()) detail::require_same_size(out.targets.size(), out.weights.size(), "regression_metrics");
    for (std::size_t i = 0; i < out.targets.size(); ++i) {
      if (!out.weights.empty()) {
        if (out.weights[i] == 0) continue;
        if (out.weights[i] != 1) fail("regression_metrics: row weight {} at row {}; only 0 (padding) or 1", out.weights[i], i);
      }
      add(out.targets[i], out.predictions[i]);
    }
  }

  /// Samples added.
  std::size_t count() const noexcept { return n_; }
  /// Mean squared error; throws if there is no sample.
  double mse() const {
    check();
    return sq_ / double(n_);
  }
  /// sqrt(mse()).
  double rmse() const { return std::sqrt(mse()); }
  /// Mean absolute error; throws if there is no sample.
  double mae() const {
    check();
    return abs_ / double(n_);
  }
  /// 1 - SS_res / SS_tot, with sklearn's edge cases (see the top of this file).
  double r2() const {
    check();
    if (n_ < 2) return std::numeric_limits<double>::quiet_NaN();  // sklearn: not well-defined
    if (m2_ == 0) return sq_ == 0 ? 1.0 : 0.0;
    return 1.0 - sq_ / m2_;
  }

  /// "mse", "rmse", "mae" and "r2".
  metric_set result() const {
    metric_set m;
    m.set("mse", mse());
    m.set("rmse", rmse());
    m.set("mae", mae());
    m.set("r2", r2());
    return m;
  }

 private:
  void check() const { detail::require_nonempty(n_, "regression_metrics"); }
  std::size_t n_ = 0;
  double sq_ = 0, abs_ = 0;   ///< sums of squared and absolute errors
  double mean_ = 0, m2_ = 0;  ///< running mean of targets and sum of squared deviations
};

namespace detail {
inline regression_metrics regression_of(real_view y_true, real_view y_pred, std::string_view what) {
  require_same_size(y_true.size(), y_pred.size(), what);
  require_nonempty(y_true.size(), what);
  regression_metrics m;
  m.update({y_true, y_pred, {}});
  return m;
}
}  // namespace detail

inline double mean_squared_error(real_view y_true, real_view y_pred) {
  return detail::regression_of(y_true, y_pred, "mean_squared_error").mse();
}
inline double root_mean_squared_error(real_view y_true, real_view y_pred) {
  return detail::regression_of(y_true, y_pred, "root_mean_squared_error").rmse();
}
inline double mean_absolute_error(real_view y_true, real_view y_pred) {
  return detail::regression_of(y_true, y_pred, "mean_absolute_error").mae();
}
inline double r2_score(real_view y_true, real_view y_pred) {
  return detail::regression_of(y_true, y_pred, "r2_score").r2();
}

}  // namespace ctformer::metrics
