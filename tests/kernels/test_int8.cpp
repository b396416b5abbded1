// int8 kernels: symmetric row quantization (round trip within half a step) and the int8 GEMM
// against its scalar twin over odd sizes and transformer shapes. The int32 sums are exact, so the
// only allowed difference is the final float multiply-add (fused or not): 1e-6 of max(|y|, 1).
#include <catch2/catch.hpp>

#include <ctformer/tensor/kernels/int8.hpp>

#include <cmath>
#include <vector>

#include "support/test_support.hpp"

namespace k = ctformer::kernels;
using ctformer::testing::random_vector;

TEST_CASE("row quantization is symmetric and within half a step", "[kernel]") {
  const std::size_t rows = 5, cols = 37;
  auto x = random_vector<float>(rows * cols, 3, -2.0f, 2.0f);
  for (std::size_t c = 0; c < cols; ++c) x[2 * cols + c] = 0.0f;  // an all-zero row
  std::vector<std::int8_t> q(rows * cols);
  std::vector<float> s(rows);
  k::quantize_rows(q.data(), s.data(), x.data(), rows, cols, cols);
  CHECK(s[2] == 0.0f);
  for (std::size_t r = 0; r < rows; ++r) {
    int extreme = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = x[r * cols + c], back = float(q[r * cols + c]) * s[r];
      REQUIRE(std::abs(v - back) <= 0.5f * s[r] * (1 + 1e-6f) + 1e-12f);
      REQUIRE(q[r * cols + c] >= -127);
      extreme = std::max(extreme, std::abs(int(q[r * cols + c])));
    }
    if (r != 2) CHECK(extreme == 127);
  }
}

TEST_CASE("int8 GEMM matches its scalar twin", "[kernel]") {
  INFO("int8 path: " << k::int8_path_name());
  const std::size_t sizes[] = {1, 3, 7, 17, 33, 65, 127};
  ctformer::thread_pool pool(2);
  unsigned seed = 1;
  auto check = [&](std::size_t M, std::size_t N, std::size_t K, bool bias) {
    auto xa = random_vector<float>(M * K, seed++), xb = random_vector<float>(N * K, seed++);
    std::vector<std::int8_t> a(M * K), b(N * K);
    std::vector<float> sa(M), sb(N);
    k::quantize_rows(a.data(), sa.data(), xa.data(), M, K, K);
    k::quantize_rows(b.data(), sb.data(), xb.data(), N, K, K);
    auto bv = random_vector<float>(N, seed++);
    std::vector<float> y(M * N), z(M * N);
    k::gemm_s8(M, N, K, a.data(), sa.data(), b.data(), sb.data(), bias ? bv.data() : nullptr, y.data(), N, pool);
    k::scalar::gemm_s8(M, N, K, a.data(), sa.data(), b.data(), sb.data(), bias ? bv.data() : nullptr, z.data(), N);
    for (std::size_t i = 0; i < y.size(); ++i) {
      INFO("M=" << M << " N=" << N << " K=" << K << " i=" << i);
      REQUIRE(std::abs(y[i] - z[i]) <= 1e-6f * std::max(std::abs(z[i]), 1.0f));
    }
  };
  for (std::size_t M : sizes)
    for (std::size_t N : sizes)
      for (std::size_t K : sizes) check(M, N, K, (M + N) % 2 == 0);
  check(64, 768, 256, true);   // a projection in a small GPT
  check(1, 1024, 256, false);  // one generated token
}

TEST_CASE("int8 GEMM approximates the float product", "[kernel]") {
  const std::size_t M = 8, N = 16, K = 256;
  auto xa = random_vector<float>(M * K, 11), xb = random_vector<float>(N * K, 12);
  std::vector<std::int8_t> a(M * K), b(N * K);
  std::vector<float> sa(M), sb(N), y(M * N);
  k::quantize_rows(a.data(), sa.data(), xa.data(), M, K, K);
  k::quantize_rows(b.data(), sb.data(), xb.data(), N, K, K);
  k::gemm_s8(M, N, K, a.data(), sa.data(), b.data(), sb.data(), nullptr, y.data(), N);
  double err = 0, mag = 0;
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      double exact = 0;
      for (std::size_t kk = 0; kk < K; ++kk) exact += double(xa[m * K + kk]) * double(xb[n * K + kk]);
      err = std::max(err, std::abs(exact - double(y[m * N + n])));
      mag = std::max(mag, std::abs(exact));
    }
  INFO("max error " << err << " of max magnitude " << mag);
  CHECK(err < 0.02 * mag);  // 8-bit steps on both sides: about 1% of the result's scale
}
