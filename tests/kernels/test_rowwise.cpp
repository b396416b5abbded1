// Softmax (plain, causal, masked, backward), layernorm, GELU, ReLU, reductions and AdamW against
// their scalar twins, in float and double, over odd sizes and transformer widths.
//
// Tolerances, relative to the magnitude of the result:
//   float:  softmax 4e-6, layernorm 2e-5, GELU 4e-6, reductions n*eps*sum|x|, AdamW 4e-6;
//   double: the same kernels at 1e-13 (1e-12 for layernorm backward).
// The SIMD exp and tanh differ from libm by a few ulps; the rest is reassociation.
#include <catch2/catch.hpp>

#include <ctformer/tensor/kernels.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "support/test_support.hpp"

namespace k = ctformer::kernels;
using ctformer::testing::random_vector;

namespace {

const std::size_t sizes[] = {1, 3, 7, 17, 33, 64, 65, 127, 128, 256, 768, 1024};

template <class T>
T tol(double f, double d) {
  return T(std::is_same_v<T, float> ? f : d);
}

// max |a - b| / (scale + |b|) over a span
template <class T>
double rel_err(const std::vector<T>& a, const std::vector<T>& b, double scale = 1.0) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / (scale + std::abs(double(b[i]))));
  return worst;
}

}  // namespace

TEMPLATE_TEST_CASE("softmax rows match the twin and sum to one", "[kernel]", float, double) {
  using T = TestType;
  for (std::size_t n : sizes) {
    for (std::size_t valid : {std::size_t{1}, n / 2 + 1, n}) {
      auto x = random_vector<T>(n, unsigned(n + valid), T(-8), T(8));
      std::vector<T> y(n, T(-1)), z(n, T(-1));
      k::softmax_row<T>(y.data(), x.data(), n, valid, T(0.37));
      k::scalar::softmax_row<T>(z.data(), x.data(), n, valid, T(0.37));
      INFO("n=" << n << " valid=" << valid);
      REQUIRE(rel_err(y, z, 0.0) <= tol<T>(4e-6, 1e-13));
      double s = 0;
      for (std::size_t j = 0; j < n; ++j) {
        if (j >= valid) REQUIRE(y[j] == T(0));
        s += y[j];
      }
      REQUIRE(std::abs(s - 1.0) <= tol<T>(1e-5, 1e-13));
    }
  }
}

TEMPLATE_TEST_CASE("causal softmax sees only the past and honours an offset", "[kernel]", float, double) {
  using T = TestType;
  for (std::size_t S : {1, 7, 64, 65}) {
    for (std::size_t offset : {std::size_t{0}, std::size_t{3}}) {
      const std::size_t cols = S + offset, ld = cols + 2;
      auto x = random_vector<T>(S * ld, 5, T(-4), T(4));
      std::vector<T> y(S * ld, T(7)), z(S * ld, T(7));
      k::softmax_causal<T>(y.data(), x.data(), S, cols, ld, offset, T(0.5));
      k::scalar::softmax_causal<T>(z.data(), x.data(), S, cols, ld, offset, T(0.5));
      for (std::size_t i = 0; i < S; ++i)
        for (std::size_t j = 0; j < cols; ++j) {
          if (j > i + offset) REQUIRE(y[i * ld + j] == T(0));
          REQUIRE(std::abs(double(y[i * ld + j]) - double(z[i * ld + j])) <=
                  tol<T>(4e-6, 1e-13) * std::abs(double(z[i * ld + j])));
        }
      // The padding columns between rows are untouched.
      for (std::size_t i = 0; i < S; ++i) REQUIRE(y[i * ld + cols] == T(7));
    }
  }
}

TEMPLATE_TEST_CASE("masked softmax gives padded keys exactly zero weight", "[kernel]", float, double) {
  using T = TestType;
  for (std::size_t n : {1, 5, 33, 128}) {
    auto x = random_vector<T>(n, 11, T(-3), T(3));
    std::vector<int> mask(n);
    for (std::size_t j = 0; j < n; ++j) mask[j] = (j % 3 != 1) ? 1 : 0;
    std::vector<T> y(n), z(n);
    k::softmax_row_masked<T>(y.data(), x.data(), n, mask.data(), n, T(1));
    k::scalar::softmax_row_masked<T>(z.data(), x.data(), n, mask.data(), n, T(1));
    for (std::size_t j = 0; j < n; ++j) {
      if (!mask[j]) REQUIRE(y[j] == T(0));
      REQUIRE(std::abs(double(y[j]) - double(z[j])) <= tol<T>(4e-6, 1e-13) * (1e-30 + std::abs(double(z[j]))));
    }
    // Changing a padded logit changes nothing.
    auto x2 = x;
    for (std::size_t j = 0; j < n; ++j)
      if (!mask[j]) x2[j] = T(1e4);
    std::vector<T> y2(n);
    k::softmax_row_masked<T>(y2.data(), x2.data(), n, mask.data(), n, T(1));
    REQUIRE(y == y2);
  }
  // A row whose keys are all padding is all zeros, not NaN.
  std::vector<T> x(4, T(1)), y(4, T(5));
  const int none[4] = {0, 0, 0, 0};
  k::softmax_row_masked<T>(y.data(), x.data(), 4, none, 4, T(1));
  for (T v : y) REQUIRE(v == T(0));
}

TEMPLATE_TEST_CASE("softmax backward matches the twin", "[kernel]", float, double) {
  using T = TestType;
  for (std::size_t n : sizes) {
    auto x = random_vector<T>(n, 3, T(-2), T(2));
    auto dy = random_vector<T>(n, 4);
    std::vector<T> y(n);
    k::scalar::softmax_row<T>(y.data(), x.data(), n, n);
    for (bool acc : {false, true}) {
      auto dx = random_vector<T>(n, 5), dz = dx;
      k::softmax_backward_row<T>(dx.data(), y.data(), dy.data(), n, acc, T(0.5));
      k::scalar::softmax_backward_row<T>(dz.data(), y.data(), dy.data(), n, acc, T(0.5));
      INFO("n=" << n << " acc=" << acc);
      REQUIRE(rel_err(dx, dz, 1.0) <= tol<T>(4e-6, 1e-13));
    }
  }
}

TEMPLATE_TEST_CASE("layernorm forward and backward match the twin", "[kernel]", float, double) {
  using T = TestType;
  for (std::size_t C : sizes) {
    const std::size_t rows = 5;
    auto x = random_vector<T>(rows * C, 1, T(-3), T(3));
    auto w = random_vector<T>(C, 2, T(0.5), T(1.5));
    auto b = random_vector<T>(C, 3);
    std::vector<T> y(rows * C), z(rows * C), m1(rows), r1(rows), m2(rows), r2(rows);
    k::layernorm_forward<T>(y.data(), m1.data(), r1.data(), x.data(), w.data(), b.data(), rows, C);
    k::scalar::layernorm_forward<T>(z.data(), m2.data(), r2.data(), x.data(), w.data(), b.data(), rows, C);
    INFO("C=" << C);
    REQUIRE(rel_err(y, z, 1.0) <= tol<T>(2e-5, 1e-13));
    REQUIRE(rel_err(r1, r2, 0.0) <= tol<T>(2e-5, 1e-13));

    auto dy = random_vector<T>(rows * C, 4);
    auto dx1 = random_vector<T>(rows * C, 5), dx2 = dx1;
    auto dw1 = random_vector<T>(C, 6), dw2 = dw1;
    auto db1 = random_vector<T>(C, 7), db2 = db1;
    k::layernorm_backward<T>(dx1.data(), dw1.data(), db1.data(), dy.data(), x.data(), w.data(), m2.data(), r2.data(), rows, C);
    k::scalar::layernorm_backward<T>(dx2.data(), dw2.data(), db2.data(), dy.data(), x.data(), w.data(), m2.data(), r2.data(), rows, C);
    REQUIRE(rel_err(dx1, dx2, 1.0) <= tol<T>(2e-5, 1e-12));
    REQUIRE(rel_err(dw1, dw2, 1.0) <= tol<T>(2e-5, 1e-12));
    REQUIRE(rel_err(db1, db2, 1.0) <= tol<T>(2e-5, 1e-12));
  }
}

TEMPLATE_TEST_CASE("GELU and ReLU forward and backward match the twins", "[kernel]", float, double) {
  using T = TestType;
  for (std::size_t n : sizes) {
    auto x = random_vector<T>(n, 8, T(-6), T(6));
    if (n > 2) x[1] = T(0);
    auto dy = random_vector<T>(n, 9);
    std::vector<T> y(n), z(n);
    k::gelu_forward<T>(y.data(), x.data(), n);
    k::scalar::gelu_forward<T>(z.data(), x.data(), n);
    INFO("n=" << n);
    REQUIRE(rel_err(y, z, 1.0) <= tol<T>(4e-6, 1e-13));
    for (bool acc : {false, true}) {
      auto d1 = random_vector<T>(n, 10), d2 = d1;
      k::gelu_backward<T>(d1.data(), dy.data(), x.data(), n, acc);
      k::scalar::gelu_backward<T>(d2.data(), dy.data(), x.data(), n, acc);
      REQUIRE(rel_err(d1, d2, 1.0) <= tol<T>(4e-6, 1e-13));
      auto r1 = random_vector<T>(n, 11), r2 = r1;
      k::relu_backward<T>(r1.data(), dy.data(), x.data(), n, acc);
      k::scalar::relu_backward<T>(r2.data(), dy.data(), x.data(), n, acc);
      REQUIRE(r1 == r2);
    }
    k::relu_forward<T>(y.data(), x.data(), n);
    k::scalar::relu_forward<T>(z.data(), x.data(), n);
    REQUIRE(y == z);
  }
}

TEMPLATE_TEST_CASE("reductions and elementwise helpers match the twins", "[kernel]", float, double) {
  using T = TestType;
  const double eps = std::numeric_limits<T>::epsilon();
  for (std::size_t n : sizes) {
    auto x = random_vector<T>(n, 12, T(-2), T(2));
    auto y = random_vector<T>(n, 13, T(-2), T(2));
    double abs_sum = 0, abs_dot = 0;
    for (std::size_t i = 0; i < n; ++i) {
      abs_sum += std::abs(double(x[i]));
      abs_dot += std::abs(double(x[i]) * double(y[i]));
    }
    INFO("n=" << n);
    REQUIRE(std::abs(double(k::sum(x.data(), n)) - double(k::scalar::sum(x.data(), n))) <= n * eps * abs_sum);
    REQUIRE(std::abs(double(k::dot(x.data(), y.data(), n)) - double(k::scalar::dot(x.data(), y.data(), n))) <= n * eps * abs_dot);
    REQUIRE(k::max(x.data(), n) == k::scalar::max(x.data(), n));
    auto a1 = x, a2 = x;
    k::axpy(a1.data(), T(0.25), y.data(), n);
    k::scalar::axpy(a2.data(), T(0.25), y.data(), n);
    REQUIRE(rel_err(a1, a2, 1.0) <= 2 * eps);
    k::scale(a1.data(), T(3), n);
    k::scalar::scale(a2.data(), T(3), n);
    REQUIRE(rel_err(a1, a2, 1.0) <= 8 * eps);
    std::vector<T> s1(n), s2(n);
    k::add(s1.data(), x.data(), y.data(), n);
    k::scalar::add(s2.data(), x.data(), y.data(), n);
    REQUIRE(s1 == s2);
  }
  REQUIRE(k::max<float>(nullptr, 0) == -std::numeric_limits<float>::infinity());
}

TEMPLATE_TEST_CASE("AdamW update matches the twin over several steps", "[kernel]", float, double) {
  using T = TestType;
  for (std::size_t n : sizes) {
    auto p1 = random_vector<T>(n, 20), p2 = p1;
    std::vector<T> m1(n, 0), v1(n, 0), m2(n, 0), v2(n, 0);
    k::adamw_step<T> s;
    s.lr = T(3e-3);
    s.weight_decay = T(0.1);
    for (long t = 1; t <= 5; ++t) {
      auto g = random_vector<T>(n, unsigned(30 + t));
      s.step = t;
      k::adamw_update<T>(p1.data(), g.data(), m1.data(), v1.data(), n, s);
      k::scalar::adamw_update<T>(p2.data(), g.data(), m2.data(), v2.data(), n, s);
    }
    INFO("n=" << n);
    REQUIRE(rel_err(p1, p2, 1.0) <= tol<T>(4e-6, 1e-13));
    REQUIRE(rel_err(m1, m2, 1.0) <= tol<T>(4e-6, 1e-13));
    REQUIRE(rel_err(v1, v2, 1.0) <= tol<T>(4e-6, 1e-13));
  }
}
