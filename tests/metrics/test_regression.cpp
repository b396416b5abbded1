// Regression metrics against scikit-learn 1.2 (mean_squared_error, its squared=False RMSE,
// mean_absolute_error, r2_score), streamed in uneven batches, and their edge cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <ctformer/metrics/regression.hpp>

#include "fixtures.hpp"

namespace m = ctformer::metrics;
using namespace ctformer::testing;

TEST_CASE("MSE, RMSE, MAE and R2 match sklearn", "[metrics][parity]") {
  const auto fx = load_fixture("regression.json");
  for (const auto& c : fx.at("cases").as_array()) {
    const auto y = doubles(c.at("y_true")), p = doubles(c.at("y_pred"));
    const auto& e = c.at("expected");
    INFO("kind " << c.at("kind").as_string() << ", n " << y.size());
    CHECK_NEAR(m::mean_squared_error(y, p), e.at("mse").as_number());
    CHECK_NEAR(m::root_mean_squared_error(y, p), e.at("rmse").as_number());
    CHECK_NEAR(m::mean_absolute_error(y, p), e.at("mae").as_number());
    CHECK_NEAR(m::r2_score(y, p), number_or_nan(e.at("r2")));
    // Streaming in batches of 3 with padded rows (weight 0) in between gives the same numbers.
    m::regression_metrics acc;
    for (std::size_t i = 0; i < y.size(); i += 3) {
      std::vector<double> yt, yp, w;
      for (std::size_t j = i; j < std::min(y.size(), i + 3); ++j) {
        yt.push_back(y[j]);
        yp.push_back(p[j]);
        w.push_back(1);
      }
      yt.push_back(1e9);
      yp.push_back(-1e9);
      w.push_back(0);
      acc.update({yt, yp, w});
    }
    const auto r = acc.result();
    CHECK_NEAR(r.at("mse"), e.at("mse").as_number());
    CHECK_NEAR(r.at("r2"), number_or_nan(e.at("r2")));
  }
  CHECK(fx.at("cases").size() >= 100);
}

TEST_CASE("edge: regression on empty, NaN, single-sample and constant targets", "[metrics][edge]") {
  const std::vector<double> none;
  CHECK_THROWS_WITH(m::mean_squared_error(none, none), Catch::Contains("empty input"));
  CHECK_THROWS_WITH(m::r2_score(none, none), Catch::Contains("empty input"));
  const std::vector<double> a = {1, 2}, b = {1, 3}, c = {1};
  CHECK_THROWS_WITH(m::mean_absolute_error(a, c), Catch::Contains("differ in length (2 and 1)"));
  const std::vector<double> nan = {1, std::nan("")};
  CHECK_THROWS_WITH(m::mean_squared_error(a, nan), Catch::Contains("prediction at sample 1 is NaN"));
  CHECK_THROWS_WITH(m::mean_squared_error(nan, a), Catch::Contains("target at sample 1 is NaN"));
  // sklearn: R2 is not well-defined with fewer than two samples and returns NaN.
  const std::vector<double> one = {3.0}, other = {2.0};
  CHECK(std::isnan(m::r2_score(one, other)));
  CHECK(m::mean_squared_error(one, other) == 1.0);
  // Constant targets (force_finite): 1 for a perfect fit, 0 otherwise.
  const std::vector<double> k = {2.5, 2.5, 2.5}, k2 = {2.5, 2.5, 2.0};
  CHECK(m::r2_score(k, k) == 1.0);
  CHECK(m::r2_score(k, k2) == 0.0);
  // Float views read the same values.
  const std::vector<float> af = {1, 2}, bf = {1, 3};
  CHECK(m::mean_squared_error(af, bf) == m::mean_squared_error(a, b));
  m::regression_metrics acc;
  const std::vector<double> w = {1, 0.5};
  CHECK_THROWS_WITH(acc.update({a, b, w}), Catch::Contains("row weight 0.5"));
}
