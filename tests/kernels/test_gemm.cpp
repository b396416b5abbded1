// GEMM against its scalar twin: three forms, overwrite and accumulate, bias, strided operands,
// odd sizes and the transformer shapes of bench_gemm, in float and double; and bit-identical
// results for 1 and 2 threads.
//
// Tolerance: for each element, |fast - twin| <= K * eps * (sum_k |a_ik b_kj| + |beta c_ij| + |bias_j|),
// i.e. the classical worst-case bound for two different summation orders of a length-K dot
// product (each within (K/2) eps of the exact sum), written down once here.
#include <catch2/catch.hpp>

#include <ctformer/tensor/kernels/gemm.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "support/test_support.hpp"

namespace k = ctformer::kernels;
using ctformer::testing::random_vector;

namespace {

struct gemm_case {
  bool ta, tb;
  std::size_t M, N, K;
  std::size_t pad;  // extra columns in every leading dimension
  bool accumulate, bias;
};

// Returns the worst ratio err / bound over all elements (must be <= 1).
template <class T>
double check_gemm(const gemm_case& c, unsigned seed, ctformer::thread_pool& pool) {
  const std::size_t ar = c.ta ? c.K : c.M, ac = c.ta ? c.M : c.K;
  const std::size_t br = c.tb ? c.N : c.K, bc = c.tb ? c.K : c.N;
  const std::size_t lda = ac + c.pad, ldb = bc + c.pad, ldc = c.N + c.pad;
  auto a = random_vector<T>(ar * lda, seed);
  auto b = random_vector<T>(br * ldb, seed + 1);
  auto c0 = random_vector<T>(c.M * ldc, seed + 2);
  auto bias = random_vector<T>(c.N, seed + 3);
  const T beta = c.accumulate ? T(1) : T(0);
  const T* bp = c.bias ? bias.data() : nullptr;

  std::vector<T> fast = c0, twin = c0;
  k::gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(1), a.data(), lda, b.data(), ldb, beta, fast.data(), ldc,
             bp, pool);
  // Large products are checked on a sample of rows (the first and last 8, then every 29th), so the
  // test stays fast under qemu; every column and the whole K range of those rows are checked.
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < c.M; ++i)
    if (c.M <= 128 || i < 8 || i + 8 >= c.M || i % 29 == 0) rows.push_back(i);
  const double eps = std::numeric_limits<T>::epsilon();
  double worst = 0;
  for (std::size_t i : rows) {
    const T* arow = c.ta ? a.data() + i : a.data() + i * lda;
    k::scalar::gemm<T>(c.ta, c.tb, 1, c.N, c.K, T(1), arow, lda, b.data(), ldb, beta,
                       twin.data() + i * ldc, ldc, bp);
    for (std::size_t j = 0; j < c.N; ++j) {
      double mag = 0;
      for (std::size_t kk = 0; kk < c.K; ++kk) {
        const double av = c.ta ? a[kk * lda + i] : a[i * lda + kk];
        const double bv = c.tb ? b[j * ldb + kk] : b[kk * ldb + j];
        mag += std::abs(av * bv);
      }
      if (c.accumulate) mag += std::abs(double(c0[i * ldc + j]));
      if (c.bias) mag += std::abs(double(bias[j]));
      const double bound = double(std::max<std::size_t>(c.K, 2)) * eps * mag + 1e-300;
      const double err = std::abs(double(fast[i * ldc + j]) - double(twin[i * ldc + j]));
      worst = std::max(worst, err / bound);
    }
  }
  // Padding columns of C are never written.
  for (std::size_t i = 0; i < c.M; ++i)
    for (std::size_t j = c.N; j < ldc; ++j)
      if (fast[i * ldc + j] != c0[i * ldc + j]) return 1e9;
  return worst;
}

const std::size_t odd_sizes[] = {1, 3, 7, 17, 33, 65, 127};

}  // namespace

TEMPLATE_TEST_CASE("gemm matches the scalar twin over odd sizes", "[kernel]", float, double) {
  ctformer::thread_pool pool(1);
  unsigned seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      // The three forms a linear layer needs, plus TT for completeness of the contract.
      for (std::size_t M : odd_sizes)
        for (std::size_t N : odd_sizes)
          for (std::size_t K : odd_sizes) {
            const bool acc = (M + N + K) % 2 == 0;
            gemm_case c{ta, tb, M, N, K, (M * 7 + K) % 5, acc, (N % 3) == 1};
            const double worst = check_gemm<TestType>(c, seed++, pool);
            INFO("ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K
                       << " acc=" << acc);
            REQUIRE(worst <= 1.0);
          }
    }
}

TEMPLATE_TEST_CASE("gemm overwrite and accumulate both hold on every form", "[kernel]", float,
                   double) {
  ctformer::thread_pool pool(1);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool acc : {false, true})
        for (bool bias : {false, true}) {
          gemm_case c{ta, tb, 67, 45, 300, 3, acc, bias};  // K > KC crosses a K block
          INFO("ta=" << ta << " tb=" << tb << " acc=" << acc << " bias=" << bias);
          REQUIRE(check_gemm<TestType>(c, 99, pool) <= 1.0);
        }
}

TEMPLATE_TEST_CASE("gemm matches the scalar twin on transformer shapes", "[kernel]", float, double) {
  ctformer::thread_pool pool(2);
  // M x K x N of bench_gemm; forward (NN), input gradient (NT) and weight gradient (TN).
  const std::size_t shapes[][3] = {
      {1024, 256, 768}, {1024, 256, 256}, {1024, 256, 1024}, {1024, 1024, 256}, {1024, 256, 512}};
  unsigned seed = 7;
  for (auto& s : shapes) {
    const std::size_t M = s[0], K = s[1], N = s[2];
    gemm_case fwd{false, false, M, N, K, 0, false, true};
    gemm_case dx{false, true, M, K, N, 0, true, false};   // dX(M,K) += dY(M,N) W(K,N)^T
    gemm_case dw{true, false, K, N, M, 0, true, false};   // dW(K,N) += X(M,K)^T dY(M,N)
    INFO("M=" << M << " K=" << K << " N=" << N);
    REQUIRE(check_gemm<TestType>(fwd, seed++, pool) <= 1.0);
    REQUIRE(check_gemm<TestType>(dx, seed++, pool) <= 1.0);
    REQUIRE(check_gemm<TestType>(dw, seed++, pool) <= 1.0);
  }
}

TEMPLATE_TEST_CASE("gemm gives bit-identical results on 1 and 2 threads", "[kernel]", float, double) {
  ctformer::thread_pool one(1), two(2);
  const std::size_t shapes[][3] = {{1024, 256, 768}, {257, 129, 1000}, {13, 600, 35}, {6, 64, 2048}, {1, 256, 1024}, {3, 384, 1536}};
  for (auto& s : shapes) {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        const std::size_t M = s[0], K = s[1], N = s[2];
        auto a = random_vector<TestType>(M * K, 1);
        auto b = random_vector<TestType>(K * N, 2);
        auto c1 = random_vector<TestType>(M * N, 3);
        auto c2 = c1;
        auto bias = random_vector<TestType>(N, 4);
        const std::size_t lda = ta ? M : K, ldb = tb ? K : N;
        k::gemm<TestType>(ta, tb, M, N, K, TestType(1), a.data(), lda, b.data(), ldb, TestType(1),
                          c1.data(), N, bias.data(), one);
        k::gemm<TestType>(ta, tb, M, N, K, TestType(1), a.data(), lda, b.data(), ldb, TestType(1),
                          c2.data(), N, bias.data(), two);
        INFO("M=" << M << " K=" << K << " N=" << N << " ta=" << ta << " tb=" << tb);
        REQUIRE(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(TestType)) == 0);
      }
  }
}

TEST_CASE("gemm_nn, gemm_nt and gemm_tn are the linear layer's three products", "[kernel]") {
  // y = x W + b, dx += dy W^T, dW += x^T dy on a hand-checked 2x2 case.
  const float x[] = {1, 2, 3, 4};    // (2,2)
  const float w[] = {5, 6, 7, 8};    // (2,2) (in, out)
  const float b[] = {0.5f, -0.5f};
  float y[4];
  k::gemm_nn<float>(2, 2, 2, x, 2, w, 2, y, 2, b);
  CHECK(y[0] == 1 * 5 + 2 * 7 + 0.5f);
  CHECK(y[1] == 1 * 6 + 2 * 8 - 0.5f);
  CHECK(y[2] == 3 * 5 + 4 * 7 + 0.5f);
  CHECK(y[3] == 3 * 6 + 4 * 8 - 0.5f);
  const float dy[] = {1, 0, 0, 1};
  float dx[4] = {1, 1, 1, 1};
  k::gemm_nt<float>(2, 2, 2, dy, 2, w, 2, dx, 2);  // accumulate by default
  CHECK(dx[0] == 1 + 5);
  CHECK(dx[1] == 1 + 7);
  CHECK(dx[2] == 1 + 6);
  CHECK(dx[3] == 1 + 8);
  float dw[4] = {0, 0, 0, 0};
  k::gemm_tn<float>(2, 2, 2, x, 2, dy, 2, dw, 2, k::gemm_mode::overwrite);
  CHECK(dw[0] == 1);
  CHECK(dw[1] == 3);
  CHECK(dw[2] == 2);
  CHECK(dw[3] == 4);
}

TEST_CASE("gemm with K = 0 scales C and adds the bias", "[kernel]") {
  float c[] = {1, 2, 3, 4};
  const float bias[] = {10, 20};
  k::gemm<float>(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 2.f, c, 2, bias);
  CHECK(c[0] == 12);
  CHECK(c[1] == 24);
  CHECK(c[2] == 16);
  CHECK(c[3] == 28);
}

TEST_CASE("gemm with beta = 0 ignores NaN in C", "[kernel]") {
  std::vector<float> a(8 * 8, 1.f), b(8 * 8, 1.f), c(8 * 8, std::numeric_limits<float>::quiet_NaN());
  k::gemm_nn<float>(8, 8, 8, a.data(), 8, b.data(), 8, c.data(), 8);
  for (float v : c) REQUIRE(v == 8.f);
}
