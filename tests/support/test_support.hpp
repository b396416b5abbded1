// Shared helpers for tests: the shared data folder (skip cleanly when it is absent), random
// fills, and tolerance checks that report the worst element.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace ctformer::testing {

// A path in the temporary folder that no other process uses: an area's tests built twice (native
// and sanitized) run side by side under ctest -j, and so may two checkouts on one machine.
inline std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("ctformer-" + std::to_string(::getpid()) + "-" + name);
}

inline std::filesystem::path data_dir() {
#ifdef CTFORMER_DATA_DIR
  return std::filesystem::path(CTFORMER_DATA_DIR);
#else
  return {};
#endif
}

// The path of a file under the shared data folder, or empty when it is missing.
inline std::filesystem::path data_file(const std::string& rel) {
  auto p = data_dir() / rel;
  std::error_code ec;
  return std::filesystem::exists(p, ec) ? p : std::filesystem::path{};
}

template <class T>
std::vector<T> random_vector(std::size_t n, unsigned seed, T lo = T(-1), T hi = T(1)) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d{double(lo), double(hi)};
  std::vector<T> v(n);
  for (auto& x : v) x = T(d(rng));
  return v;
}

}  // namespace ctformer::testing

// Skip the rest of a test (it still passes) with a visible message when a data file is absent.
#define CTFORMER_REQUIRE_DATA(var, rel)                                                     \
  const auto var = ::ctformer::testing::data_file(rel);                                     \
  if (var.empty()) {                                                                        \
    WARN("SKIPPED: shared data file '" << (rel) << "' not found under "                     \
                                       << ::ctformer::testing::data_dir().string()          \
                                       << " (set -DCTFORMER_DATA_DIR=...)");                \
    return;                                                                                 \
  }
