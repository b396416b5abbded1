// int8 inference kernels: symmetric quantization (q = round(x / s), s = max|x| / 127, so q lies in
// [-127, 127]) and y = sa[m] * sb[n] * sum_k a[m,k] b[n,k] + bias[n] with int32 accumulation, where
// b holds the weights transposed (one output channel per row). Products are summed as int16 pairs
// into int32 (no overflow for K < 2^16): VNNI's vpdpwssd where the CPU has it, AVX2's vpmaddwd, or
// xsimd's portable int32 batches (NEON, SSE) otherwise. The scalar twins define the result exactly:
// integer sums do not depend on the order, so every path gives the same bits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../threading.hpp"
#include "simd.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

// Which int8 dot-product path this translation unit uses.
inline const char* int8_path_name() {
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
  return "avx512-vnni";
#elif defined(__AVXVNNI__)
  return "avx-vnni";
#elif defined(__AVX2__)
  return "avx2";
#else
  return "xsimd-generic";
#endif
}

// Symmetric per-row quantization of x (rows, cols; row stride ld): q row-major (rows, cols),
// scale per row (0 rows get scale 0 and all-zero q).
inline void quantize_rows(std::int8_t* q, float* scale, const float* x, std::size_t rows, std::size_t cols,
                          std::size_t ld) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ld;
    float m = 0;
    for (std::size_t c = 0; c < cols; ++c) m = std::max(m, std::abs(xr[c]));
    const float s = m / 127.0f;
    scale[r] = s;
    const float inv = s > 0 ? 1.0f / s : 0.0f;
    std::int8_t* qr = q + r * cols;
    for (std::size_t c = 0; c < cols; ++c)
      qr[c] = static_cast<std::int8_t>(std::lrint(std::clamp(xr[c] * inv, -127.0f, 127.0f)));
  }
}

namespace detail {

// sum_k a[k] * b[k] over n elements, 4 outputs at once (b0..b3 share a).
inline void dot_s8_x4(const std::int8_t* a, const std::int8_t* const* b, std::size_t n, std::int32_t* out) {
  std::size_t k = 0;
  std::int32_t acc[4] = {0, 0, 0, 0};
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  for (; k + 32 <= n; k += 32) {
    const __m512i av = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + k)));
    s0 = _mm512_dpwssd_epi32(s0, av, _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[0] + k))));
    s1 = _mm512_dpwssd_epi32(s1, av, _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[1] + k))));
    s2 = _mm512_dpwssd_epi32(s2, av, _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[2] + k))));
    s3 = _mm512_dpwssd_epi32(s3, av, _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[3] + k))));
  }
  acc[0] = _mm512_reduce_add_epi32(s0);
  acc[1] = _mm512_reduce_add_epi32(s1);
  acc[2] = _mm512_reduce_add_epi32(s2);
  acc[3] = _mm512_reduce_add_epi32(s3);
#elif defined(__AVX2__)
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (; k + 16 <= n; k += 16) {
    const __m256i av = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k)));
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[0] + k)));
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[1] + k)));
    const __m256i b2 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[2] + k)));
    const __m256i b3 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[3] + k)));
#if defined(__AVXVNNI__)
    s0 = _mm256_dpwssd_avx_epi32(s0, av, b0);
    s1 = _mm256_dpwssd_avx_epi32(s1, av, b1);
    s2 = _mm256_dpwssd_avx_epi32(s2, av, b2);
    s3 = _mm256_dpwssd_avx_epi32(s3, av, b3);
#else
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(av, b0));
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(av, b1));
    s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(av, b2));
    s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(av, b3));
#endif
  }
  auto hsum = [](__m256i v) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4E));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xB1));
    return _mm_cvtsi128_si32(x);
  };
  acc[0] = hsum(s0);
  acc[1] = hsum(s1);
  acc[2] = hsum(s2);
  acc[3] = hsum(s3);
#else
  using I = xsimd::batch<std::int32_t>;
  constexpr std::size_t W = I::size;
  I s0(0), s1(0), s2(0), s3(0);
  for (; k + W <= n; k += W) {
    const I av = I::load_unaligned(a + k);  // sign-extending loads
    s0 += av * I::load_unaligned(b[0] + k);
    s1 += av * I::load_unaligned(b[1] + k);
    s2 += av * I::load_unaligned(b[2] + k);
    s3 += av * I::load_unaligned(b[3] + k);
  }
  acc[0] = xsimd::hadd(s0);
  acc[1] = xsimd::hadd(s1);
  acc[2] = xsimd::hadd(s2);
  acc[3] = xsimd::hadd(s3);
#endif
  for (; k < n; ++k) {
    const std::int32_t av = a[k];
    for (int j = 0; j < 4; ++j) acc[j] += av * std::int32_t(b[j][k]);
  }
  for (int j = 0; j < 4; ++j) out[j] = acc[j];
}

}  // namespace detail

// y (M, N; stride ldy) = sa[m] * sb[n] * (a (M, K) . b (N, K)^T) + bias[n] (bias may be null).
// a and b are row-major int8 with row strides K. Runs over column blocks on the pool.
inline void gemm_s8(std::size_t M, std::size_t N, std::size_t K, const std::int8_t* a, const float* sa,
                    const std::int8_t* b, const float* sb, const float* bias, float* y, std::size_t ldy,
                    thread_pool& pool = default_pool()) {
  constexpr std::size_t block = 64;  // output columns per task
  const std::size_t tasks = (N + block - 1) / block;
  pool.parallel_for(tasks, [&](std::size_t t, unsigned) {
    const std::size_t n0 = t * block, n1 = std::min(N, n0 + block);
    for (std::size_t m = 0; m < M; ++m) {
      const std::int8_t* am = a + m * K;
      std::size_t n = n0;
      for (; n + 4 <= n1; n += 4) {
        const std::int8_t* bs[4] = {b + n * K, b + (n + 1) * K, b + (n + 2) * K, b + (n + 3) * K};
        std::int32_t acc[4];
        detail::dot_s8_x4(am, bs, K, acc);
        for (int j = 0; j < 4; ++j)
          y[m * ldy + n + j] = sa[m] * sb[n + j] * float(acc[j]) + (bias ? bias[n + j] : 0.0f);
      }
      for (; n < n1; ++n) {
        const std::int8_t* bs[4] = {b + n * K, b + n * K, b + n * K, b + n * K};
        std::int32_t acc[4];
        detail::dot_s8_x4(am, bs, K, acc);
        y[m * ldy + n] = sa[m] * sb[n] * float(acc[0]) + (bias ? bias[n] : 0.0f);
      }
    }
  });
}

namespace scalar {

inline void gemm_s8(std::size_t M, std::size_t N, std::size_t K, const std::int8_t* a, const float* sa,
                    const std::int8_t* b, const float* sb, const float* bias, float* y, std::size_t ldy) {
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      std::int32_t acc = 0;
      for (std::size_t k = 0; k < K; ++k) acc += std::int32_t(a[m * K + k]) * std::int32_t(b[n * K + k]);
      y[m * ldy + n] = sa[m] * sb[n] * float(acc) + (bias ? bias[n] : 0.0f);
    }
}

}  // namespace scalar
}  // namespace ctformer::kernels

CTFORMER_KERNELS_END
