// Helpers for the metric parity tests: load a fixture written by tests/reference/
// metrics_reference.py, convert JSON arrays, and compare within the parity tolerance
// |got - expected| <= 1e-9 * max(1, |expected|) (absolute for values up to 1, relative above).
// A JSON null stands for NaN.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <ctformer/io/json.hpp>

namespace ctformer::testing {

inline json::value load_fixture(const std::string& name) {
  const std::string path = std::string(CTFORMER_TEST_SOURCE_DIR) + "/metrics/fixtures/" + name;
  std::ifstream f(path, std::ios::binary);
  if (!f) FAIL("cannot open fixture " << path);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

inline double number_or_nan(const json::value& v) {
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.as_number();
}

inline std::vector<double> doubles(const json::value& a) {
  std::vector<double> out;
  for (const auto& v : a.as_array()) out.push_back(number_or_nan(v));
  return out;
}

inline std::vector<std::int32_t> ints(const json::value& a) {
  std::vector<std::int32_t> out;
  for (const auto& v : a.as_array()) out.push_back(std::int32_t(v.as_int()));
  return out;
}

inline std::vector<std::string> strings(const json::value& a) {
  std::vector<std::string> out;
  for (const auto& v : a.as_array()) out.push_back(v.as_string());
  return out;
}

constexpr double parity_tol = 1e-9;

inline bool near(double got, double expected, double tol = parity_tol) {
  if (std::isnan(expected)) return std::isnan(got);
  if (std::isinf(expected)) return got == expected;
  return std::abs(got - expected) <= tol * std::max(1.0, std::abs(expected));
}

inline bool near_all(const std::vector<double>& got, const std::vector<double>& expected, double tol = parity_tol) {
  if (got.size() != expected.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!near(got[i], expected[i], tol)) return false;
  return true;
}

}  // namespace ctformer::testing

// Checks a value against the fixture and prints both on failure.
#define CHECK_NEAR(got, expected)                                                              \
  do {                                                                                         \
    const double got_ = (got), exp_ = (expected);                                              \
    INFO(#got " = " << std::setprecision(17) << got_ << ", expected " << exp_);              \
    CHECK(::ctformer::testing::near(got_, exp_));                                              \
  } while (0)
