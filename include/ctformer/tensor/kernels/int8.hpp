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
#include <cstring>
#include <stdexcept>

#include "../../error.hpp"
#include "../threading.hpp"
#include "simd.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

/// Which int8 dot-product path this translation unit uses.
inline const char* int8_path_name() {
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
  return "avx512-vnni";
#elif defined(__AVXVNNI__)
  return "avx-vnni";
#elif defined(__AVX2__)
  return "avx2";
#else
#if defined(CTFORMER_SIMD_SCALAR)
  return "scalar";
#else
  return "xsimd-generic";
#endif
#endif
}

/// Symmetric per-row quantization of x (rows, cols; row stride ld): q row-major (rows, cols),
/// scale per row (0 rows get scale 0 and all-zero q).
inline void quantize_rows(std::int8_t* q, float* scale, const float* x, std::size_t rows, std::size_t cols,
                          std::size_t ld) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ld;
    float m = 0;
    std::size_t c = 0;
#if defined(__AVX2__)
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 mv = _mm256_setzero_ps();
    for (; c + 8 <= cols; c += 8) mv = _mm256_max_ps(mv, _mm256_andnot_ps(sign, _mm256_loadu_ps(xr + c)));
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, mv);
    for (float l : lanes) m = std::max(m, l);
#endif
    for (; c < cols; ++c) m = std::max(m, std::abs(xr[c]));
    const float s = m / 127.0f;
    scale[r] = s;
    const float inv = s > 0 ? 1.0f / s : 0.0f;
    std::int8_t* qr = q + r * cols;
    c = 0;
#if defined(__AVX2__)
    /// Round to nearest even, as lrint in the default rounding mode.
    const __m256 vi = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    for (; c + 8 <= cols; c += 8) {
      const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + c), vi), lo), hi);
      const __m256i i32 = _mm256_cvtps_epi32(v);
      const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(qr + c), _mm_packs_epi16(i16, i16));
    }
#endif
    for (; c < cols; ++c)
      qr[c] = static_cast<std::int8_t>(std::lrint(std::clamp(xr[c] * inv, -127.0f, 127.0f)));
  }
}

namespace detail {

/// sum_k a[k] * b[k] over n elements, 4 outputs at once (b0..b3 share a).
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
  using I = simd<std::int32_t>;
  constexpr std::size_t W = I::size;
  I s0(0), s1(0), s2(0), s3(0);
  for (; k + W <= n; k += W) {
    const I av = I::load_unaligned(a + k);  ///< sign-extending loads
    s0 += av * I::load_unaligned(b[0] + k);
    s1 += av * I::load_unaligned(b[1] + k);
    s2 += av * I::load_unaligned(b[2] + k);
    s3 += av * I::load_unaligned(b[3] + k);
  }
  acc[0] = v::hadd(s0);
  acc[1] = v::hadd(s1);
  acc[2] = v::hadd(s2);
  acc[3] = v::hadd(s3);
#endif
  for (; k < n; ++k) {
    const std::int32_t av = a[k];
    for (int j = 0; j < 4; ++j) acc[j] += av * std::int32_t(b[j][k]);
  }
  for (int j = 0; j < 4; ++j) out[j] = acc[j];
}

}  // namespace detail

/// y (M, N; stride ldy) = sa[m] * sb[n] * (a (M, K) . b (N, K)^T) + bias[n] (bias may be null).
/// a and b are row-major int8 with row strides K. Runs over column blocks on the pool. The
/// portable path: builds without AVX2, and AVX2 builds whose thread scratch cannot hold a panel
/// (integer sums are exact and the float epilogue is the same, so results are identical).
inline void gemm_s8_portable(std::size_t M, std::size_t N, std::size_t K, const std::int8_t* a, const float* sa,
                    const std::int8_t* b, const float* sb, const float* bias, float* y, std::size_t ldy,
                    thread_pool& pool = default_pool()) {
  constexpr std::size_t block = 64;  ///< output columns per task
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

#if defined(__AVX2__)
namespace detail {

/// The AVX2 path is register-blocked like the float GEMM: a tile of 6 rows x 16 output channels
/// lives in 12 int32 accumulators. For each pair of k, the 16 channels' weights sit in two vectors
/// as int16 pairs (b[n,k], b[n,k+1]) and each row's (a[m,k], a[m,k+1]) is broadcast, so one
/// vpmaddwd (or VNNI vpdpwssd) does 16 multiply-adds. Weights are packed once per 16-channel
/// panel and rows widened once per 6-row group, in the calling thread's scratch.
constexpr std::size_t s8_mr = 6, s8_nr = 16;

inline __m256i s8_madd(__m256i acc, __m256i a, __m256i b) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpwssd_epi32(acc, a, b);
#elif defined(__AVXVNNI__)
  return _mm256_dpwssd_avx_epi32(acc, a, b);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

/// Channels [n0, n0 + 16) of b (N, K) as int16 k-pairs: pair j holds, for each channel c,
/// (b[n0+c, 2j], b[n0+c, 2j+1]); channels past N and the k past K are zero.
inline void s8_pack_panel(std::int16_t* dst, const std::int8_t* b, std::size_t N, std::size_t K, std::size_t n0) {
  const std::size_t pairs = (K + 1) / 2, cols = std::min(s8_nr, N - n0);
  std::size_t k = 0;
  if (cols == s8_nr) {
    // 8 channels x 16 k at a time: widen each channel's 16 k (8 pairs of 32 bits), then an 8 x 8
    // transpose of the 32-bit pairs turns them into 8 k-pair rows of 8 channels.
    for (; k + 16 <= K; k += 16)
      for (std::size_t h = 0; h < 2; ++h) {
        __m256i r[8];
        for (std::size_t c = 0; c < 8; ++c)
          r[c] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + (n0 + 8 * h + c) * K + k)));
        const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
        const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
        const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
        const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
        const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
        const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
        /// u0..u3 hold pairs 0..3 (low lane) and 4..7 (high lane) of channels 0..3; u4..u7 of 4..7.
        const __m256i rows[8] = {_mm256_permute2x128_si256(u0, u4, 0x20), _mm256_permute2x128_si256(u1, u5, 0x20),
                                 _mm256_permute2x128_si256(u2, u6, 0x20), _mm256_permute2x128_si256(u3, u7, 0x20),
                                 _mm256_permute2x128_si256(u0, u4, 0x31), _mm256_permute2x128_si256(u1, u5, 0x31),
                                 _mm256_permute2x128_si256(u2, u6, 0x31), _mm256_permute2x128_si256(u3, u7, 0x31)};
        for (std::size_t j = 0; j < 8; ++j)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (k / 2 + j) * 2 * s8_nr + 16 * h), rows[j]);
      }
  }
  std::fill(dst + (k / 2) * 2 * s8_nr, dst + pairs * 2 * s8_nr, std::int16_t{0});
  for (std::size_t c = 0; c < cols; ++c) {
    const std::int8_t* row = b + (n0 + c) * K;
    for (std::size_t kk = k; kk < K; ++kk) dst[(kk / 2) * 2 * s8_nr + 2 * c + (kk & 1)] = row[kk];
  }
}

/// Rows [m0, m0 + rows) of a (M, K) widened to int16, row stride 2 * pairs (zero padded).
inline void s8_widen_rows(std::int16_t* dst, const std::int8_t* a, std::size_t K, std::size_t pairs,
                          std::size_t m0, std::size_t rows) {
  for (std::size_t r = 0; r < rows; ++r) {
    const std::int8_t* src = a + (m0 + r) * K;
    std::int16_t* d = dst + r * 2 * pairs;
    std::size_t k = 0;
    for (; k + 16 <= K; k += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + k),
                          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k))));
    for (; k < K; ++k) d[k] = src[k];
    if (K & 1) d[K] = 0;
  }
}

template <std::size_t R>
inline void s8_tile(const std::int16_t* a16, std::size_t lda, const std::int16_t* bp, std::size_t pairs,
                    std::int32_t* out /* R x 16 */) {
  __m256i c0[R], c1[R];
  for (std::size_t r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_si256();
  for (std::size_t j = 0; j < pairs; ++j) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + j * 2 * s8_nr));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + j * 2 * s8_nr + s8_nr));
    for (std::size_t r = 0; r < R; ++r) {
      std::int32_t pair;
      std::memcpy(&pair, a16 + r * lda + 2 * j, sizeof pair);
      const __m256i av = _mm256_set1_epi32(pair);
      c0[r] = s8_madd(c0[r], av, b0);
      c1[r] = s8_madd(c1[r], av, b1);
    }
  }
  for (std::size_t r = 0; r < R; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * s8_nr), c0[r]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * s8_nr + 8), c1[r]);
  }
}

}  // namespace detail

/// y (M, N; stride ldy) = sa[m] * sb[n] * (a (M, K) . b (N, K)^T) + bias[n] (bias may be null).
/// a and b are row-major int8 with row strides K. Runs over 16-channel panels on the pool.
inline void gemm_s8(std::size_t M, std::size_t N, std::size_t K, const std::int8_t* a, const float* sa,
                    const std::int8_t* b, const float* sb, const float* bias, float* y, std::size_t ldy,
                    thread_pool& pool = default_pool()) {
  using namespace detail;
  const std::size_t pairs = (K + 1) / 2, lda = 2 * pairs;
  const std::size_t panel_elems = pairs * 2 * s8_nr;
  /// All rows are widened once, before the panels, when they fit the scratch beside a panel;
  /// otherwise each panel widens its 6-row groups as it goes.
  const std::size_t shared_elems = (M * lda + 31) / 32 * 32;
  const bool shared = (shared_elems + panel_elems) * sizeof(std::int16_t) + 64 <= thread_pool::scratch_bytes;
  if ((panel_elems + s8_mr * lda) * sizeof(std::int16_t) + 64 > thread_pool::scratch_bytes)
    return gemm_s8_portable(M, N, K, a, sa, b, sb, bias, y, ldy, pool);
  const std::int16_t* all_rows = nullptr;
  if (shared) {
    auto* w = reinterpret_cast<std::int16_t*>(pool.scratch());
    s8_widen_rows(w, a, K, pairs, 0, M);
    all_rows = w;
  }
  const std::size_t panel_at = shared ? shared_elems : 0;
  const std::size_t panels = (N + s8_nr - 1) / s8_nr;
  pool.parallel_for(panels, [&](std::size_t t, unsigned) {
    std::int16_t* bp = reinterpret_cast<std::int16_t*>(pool.scratch()) + panel_at;
    std::int16_t* group = bp + panel_elems;
    const std::size_t n0 = t * s8_nr, cols = std::min(s8_nr, N - n0);
    s8_pack_panel(bp, b, N, K, n0);
    alignas(32) std::int32_t acc[s8_mr * s8_nr];
    alignas(32) float scale[s8_nr], shift[s8_nr];
    for (std::size_t c = 0; c < s8_nr; ++c) {
      scale[c] = c < cols ? sb[n0 + c] : 0.0f;
      shift[c] = c < cols && bias ? bias[n0 + c] : 0.0f;
    }
    for (std::size_t m0 = 0; m0 < M; m0 += s8_mr) {
      const std::size_t rows = std::min(s8_mr, M - m0);
      const std::int16_t* a16 = all_rows ? all_rows + m0 * lda : group;
      if (!all_rows) s8_widen_rows(group, a, K, pairs, m0, rows);
      switch (rows) {
        case 6: s8_tile<6>(a16, lda, bp, pairs, acc); break;
        case 5: s8_tile<5>(a16, lda, bp, pairs, acc); break;
        case 4: s8_tile<4>(a16, lda, bp, pairs, acc); break;
        case 3: s8_tile<3>(a16, lda, bp, pairs, acc); break;
        case 2: s8_tile<2>(a16, lda, bp, pairs, acc); break;
        default: s8_tile<1>(a16, lda, bp, pairs, acc); break;
      }
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t m = m0 + r;
        float* ym = y + m * ldy + n0;
        if (cols == s8_nr) {  // (sa * sb) * acc + bias, as the scalar twin
          const __m256 am = _mm256_set1_ps(sa[m]);
          for (std::size_t h = 0; h < s8_nr; h += 8) {
            const __m256 v = _mm256_mul_ps(_mm256_mul_ps(am, _mm256_load_ps(scale + h)),
                                           _mm256_cvtepi32_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * s8_nr + h))));
            _mm256_storeu_ps(ym + h, bias ? _mm256_add_ps(v, _mm256_load_ps(shift + h)) : v);
          }
        } else {
          for (std::size_t c = 0; c < cols; ++c) {
            const float v = sa[m] * scale[c] * float(acc[r * s8_nr + c]);
            ym[c] = bias ? v + shift[c] : v;
          }
        }
      }
    }
  });
}
#else
/// y (M, N; stride ldy) = sa[m] * sb[n] * (a (M, K) . b (N, K)^T) + bias[n] (bias may be null).
inline void gemm_s8(std::size_t M, std::size_t N, std::size_t K, const std::int8_t* a, const float* sa,
                    const std::int8_t* b, const float* sb, const float* bias, float* y, std::size_t ldy,
                    thread_pool& pool = default_pool()) {
  gemm_s8_portable(M, N, K, a, sa, b, sb, bias, y, ldy, pool);
}
#endif

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
