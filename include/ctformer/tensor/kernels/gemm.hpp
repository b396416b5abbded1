// GEMM for linear layers and attention: C = alpha * op(A) * op(B) + beta * C (+ bias per column).
// Forward is gemm_nn (y = x W + b), backward is gemm_nt (dx += dy W^T) and gemm_tn (dW += x^T dy).
// BLIS-style: op(B) is packed in KC x NR panels, op(A) in MR x KC panels, and an MR x NR register
// tile accumulates with FMA. Each output element sees the same operations in the same order for any
// thread count, because tiles sit on a fixed MR/NR grid and the K blocking never changes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "../threading.hpp"
#include "scratch.hpp"
#include "simd.hpp"

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

enum class gemm_mode : unsigned char { overwrite, accumulate };

namespace detail {

template <class T>
struct gemm_blocking {
  using batch = simd<T>;
  static constexpr std::size_t W = batch::size;
  static constexpr std::size_t MR = 6;
  static constexpr std::size_t NV = 2;
  static constexpr std::size_t NR = NV * W;
  static constexpr std::size_t KC = gemm_kc;  ///< the only blocking size that changes rounding
  static constexpr std::size_t scratch = thread_pool::scratch_bytes;
  /// The blocked path needs a KC x NR panel of op(B) and an MR x KC one of op(A). A smaller scratch
  /// (a microcontroller's, sized for its model: kernels/scratch.hpp) runs every product through
  /// the few-row path, four rows at a time, which rounds every element the same way.
  static constexpr bool blocked = scratch >= KC * (NR + MR) * sizeof(T) + 64;
  /// op(B) block KC x NC, meant for L3: 3 MiB of a hosted thread's 5 MiB scratch, half of a
  /// smaller (firmware) scratch. NC and MC only tile the output, so they never change results.
  static constexpr std::size_t b_bytes = scratch >= (std::size_t{5} << 20) ? (std::size_t{3} << 20) : scratch / 2;
  static constexpr std::size_t NC = (b_bytes / (KC * sizeof(T))) / NR * NR;
  static constexpr std::size_t a_offset = KC * NC * sizeof(T);
  /// op(A) block: MC x KC, meant to stay in L2.
  static constexpr std::size_t a_rows = scratch > a_offset + 64 ? (scratch - a_offset - 64) / (KC * sizeof(T)) : 0;
  static constexpr std::size_t MC = std::min<std::size_t>(20 * MR, a_rows / MR * MR);
  static_assert(!blocked || (NC >= NR && MC >= MR && a_offset + MC * KC * sizeof(T) + 64 <= scratch),
                "ctformer: GEMM blocks do not fit the thread scratch");
  static_assert(scratch >= KC * sizeof(T),
                "ctformer: the thread scratch (CTFORMER_SCRATCH_BYTES) must hold one column of a K block "
                "(kernels::gemm_scratch_bytes gives what a model needs)");
  /// Columns per chunk of the few-row path: its transposed op(B) block is min(K, KC) x this. A
  /// one-lane build reads op(B) in place and needs no scratch there.
  static constexpr std::size_t small_cols(std::size_t K) {
    if (W == 1) return 64;
    return std::min<std::size_t>(64, scratch / (std::min(K, KC) * sizeof(T)));
  }
};

/// op(B)[pc:pc+kc, jc:jc+nc] -> panels of NR columns, row k of a panel contiguous; zero padded.
template <class T>
void pack_b(T* CTFORMER_RESTRICT dst, const T* CTFORMER_RESTRICT b, std::size_t ldb, bool trans,
            std::size_t pc, std::size_t jc, std::size_t kc, std::size_t nc) {
  using G = gemm_blocking<T>;
  constexpr std::size_t NR = G::NR, W = G::W;
  for (std::size_t j0 = 0; j0 < nc; j0 += NR) {
    const std::size_t nr = std::min(NR, nc - j0);
    T* panel = dst + j0 * kc;
    if (!trans) {
      const T* src = b + pc * ldb + jc + j0;
      if (nr == NR) {
        for (std::size_t k = 0; k < kc; ++k) {
          for (std::size_t v = 0; v < G::NV; ++v)
            simd<T>::load_unaligned(src + k * ldb + v * W).store_aligned(panel + k * NR + v * W);
        }
      } else {
        for (std::size_t k = 0; k < kc; ++k) {
          std::size_t j = 0;
          for (; j < nr; ++j) panel[k * NR + j] = src[k * ldb + j];
          for (; j < NR; ++j) panel[k * NR + j] = T(0);
        }
      }
    } else {
      // op(B)[k][j] = B[j][k]: each row of B is contiguous along k.
      for (std::size_t j = 0; j < nr; ++j) {
        const T* src = b + (jc + j0 + j) * ldb + pc;
        for (std::size_t k = 0; k < kc; ++k) panel[k * NR + j] = src[k];
      }
      for (std::size_t j = nr; j < NR; ++j)
        for (std::size_t k = 0; k < kc; ++k) panel[k * NR + j] = T(0);
    }
  }
}

/// op(A)[ic:ic+mc, pc:pc+kc] -> panels of MR rows, column k of a panel contiguous; zero padded.
template <class T>
void pack_a(T* CTFORMER_RESTRICT dst, const T* CTFORMER_RESTRICT a, std::size_t lda, bool trans,
            std::size_t ic, std::size_t pc, std::size_t mc, std::size_t kc) {
  constexpr std::size_t MR = gemm_blocking<T>::MR;
  for (std::size_t i0 = 0; i0 < mc; i0 += MR) {
    const std::size_t mr = std::min(MR, mc - i0);
    T* panel = dst + i0 * kc;
    if (!trans) {
      if (mr == MR) {
        const T* r[MR];
        for (std::size_t i = 0; i < MR; ++i) r[i] = a + (ic + i0 + i) * lda + pc;
        for (std::size_t k = 0; k < kc; ++k)
          for (std::size_t i = 0; i < MR; ++i) panel[k * MR + i] = r[i][k];
      } else {
        for (std::size_t i = 0; i < MR; ++i) {
          const T* src = a + (ic + i0 + i) * lda + pc;
          for (std::size_t k = 0; k < kc; ++k) panel[k * MR + i] = i < mr ? src[k] : T(0);
        }
      }
    } else {
      // op(A)[i][k] = A[k][i]: MR consecutive elements of row k of A.
      for (std::size_t k = 0; k < kc; ++k) {
        const T* src = a + (pc + k) * lda + ic + i0;
        std::size_t i = 0;
        for (; i < mr; ++i) panel[k * MR + i] = src[i];
        for (; i < MR; ++i) panel[k * MR + i] = T(0);
      }
    }
  }
}

/// The register tile. first: this is the first K block, so C is overwritten as
/// alpha*acc + beta*C + bias (beta == 0 never reads C); later blocks add alpha*acc to C.
template <class T>
CTFORMER_INLINE void micro_kernel(std::size_t kc, const T* CTFORMER_RESTRICT a,
                                  const T* CTFORMER_RESTRICT b, T* c, std::size_t ldc,
                                  std::size_t mr, std::size_t nr, bool first, T alpha, T beta,
                                  const T* bias) {
  using G = gemm_blocking<T>;
  using B = simd<T>;
  constexpr std::size_t MR = G::MR, NV = G::NV, W = G::W, NR = G::NR;

  B acc[MR][NV];
#pragma GCC unroll 8
  for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) acc[i][v] = B(T(0));

  // Bring the C tile towards L1 while the product runs.
  if (mr == MR && nr == NR) {
    for (std::size_t i = 0; i < MR; ++i) __builtin_prefetch(c + i * ldc, 1, 3);
  }
#pragma GCC unroll 4
  for (std::size_t k = 0; k < kc; ++k) {
    B bv[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) bv[v] = B::load_aligned(b + v * W);
#pragma GCC unroll 8
    for (std::size_t i = 0; i < MR; ++i) {
      const B av(a[i]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[i][v] = v::fma(av, bv[v], acc[i][v]);
    }
    a += MR;
    b += NR;
  }

  /// Partial tiles go through a padded copy so that every element sees the same vector ops.
  alignas(64) T tile[MR * NR];
  const bool full = (mr == MR && nr == NR);
  T* dst = c;
  std::size_t ld = ldc;
  if (!full) {
    dst = tile;
    ld = NR;
    if (!(first && beta == T(0))) {
      for (std::size_t i = 0; i < MR; ++i)
        for (std::size_t j = 0; j < NR; ++j) tile[i * NR + j] = (i < mr && j < nr) ? c[i * ldc + j] : T(0);
    }
  }
  alignas(64) T bias_pad[NR];
  const T* bias_src = bias;
  if (first && bias && nr != NR) {
    for (std::size_t j = 0; j < NR; ++j) bias_pad[j] = j < nr ? bias[j] : T(0);
    bias_src = bias_pad;
  }
  const B va(alpha);
  if (first) {
    const B vb(beta);
#pragma GCC unroll 8
    for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) {
        T* p = dst + i * ld + v * W;
        B base = beta == T(0) ? B(T(0)) : vb * B::load_unaligned(p);
        if (bias_src) base = base + B::load_unaligned(bias_src + v * W);
        v::fma(va, acc[i][v], base).store_unaligned(p);
      }
  } else {
#pragma GCC unroll 8
    for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) {
        T* p = dst + i * ld + v * W;
        v::fma(va, acc[i][v], B::load_unaligned(p)).store_unaligned(p);
      }
  }
  if (!full) {
    for (std::size_t i = 0; i < mr; ++i)
      for (std::size_t j = 0; j < nr; ++j) c[i * ldc + j] = tile[i * NR + j];
  }
}

/// C[m0:m1, n0:n1] with this thread's packing buffers. m0 is a multiple of MR, n0 of NR.
template <class T>
void gemm_block(bool ta, bool tb, std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1,
                std::size_t K, T alpha, const T* a, std::size_t lda, const T* b, std::size_t ldb,
                T beta, T* c, std::size_t ldc, const T* bias, std::byte* scratch) {
  using G = gemm_blocking<T>;
  T* bp = reinterpret_cast<T*>(scratch);
  T* ap = reinterpret_cast<T*>(scratch + G::a_offset);
  for (std::size_t jc = n0; jc < n1; jc += G::NC) {
    const std::size_t nc = std::min(G::NC, n1 - jc);
    for (std::size_t pc = 0; pc < K; pc += G::KC) {
      const std::size_t kc = std::min(G::KC, K - pc);
      const bool first = (pc == 0);
      pack_b(bp, b, ldb, tb, pc, jc, kc, nc);
      for (std::size_t ic = m0; ic < m1; ic += G::MC) {
        const std::size_t mc = std::min(G::MC, m1 - ic);
        pack_a(ap, a, lda, ta, ic, pc, mc, kc);
        for (std::size_t jr = 0; jr < nc; jr += G::NR) {
          const std::size_t nr = std::min(G::NR, nc - jr);
          const T* bias_j = (first && bias) ? bias + jc + jr : nullptr;
          for (std::size_t ir = 0; ir < mc; ir += G::MR) {
            const std::size_t mr = std::min(G::MR, mc - ir);
            micro_kernel<T>(kc, ap + ir * kc, bp + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, mr,
                            nr, first, alpha, beta, bias_j);
          }
        }
      }
    }
  }
}

/// One K block [pc, pc + kc) of the few-row product on a one-lane build (a microcontroller): no
/// transposed copy; op(B) is read in place, NB columns at a time, so each a(m, k) loaded feeds NB
/// FMAs from registers, and the loops are specialized on op(B)'s layout so that the inner loop
/// holds loads and FMAs only. Every element sees the same FMA chain over k as on any other build.
template <class T, std::size_t MS, bool TB>
void one_lane_block(bool ta, std::size_t n0, std::size_t n1, std::size_t pc, std::size_t kc, bool first, T alpha,
                    const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
                    const T* bias) {
  using B = simd<T>;
  const std::size_t a_k = ta ? lda : 1, a_m = ta ? 1 : lda;  ///< op(A)(m, k) = a0[m * a_m + k * a_k]
  const T* a0 = ta ? a + pc * lda : a + pc;
  const auto columns = [&]<std::size_t NB>(std::size_t j, std::integral_constant<std::size_t, NB>) {
    T acc[MS][NB];
    for (std::size_t m = 0; m < MS; ++m)
      for (std::size_t q = 0; q < NB; ++q) acc[m][q] = T(0);
    const T* ap = a0;
    const auto step = [&](const T (&bv)[NB]) {
      for (std::size_t m = 0; m < MS; ++m) {
        const B av(ap[m * a_m]);
        for (std::size_t q = 0; q < NB; ++q) acc[m][q] = v::fma(av, B(bv[q]), B(acc[m][q])).x;
      }
    };
    if constexpr (TB) {  // op(B)(pc + k, j + q) = b[(j + q) * ldb + pc + k]: NB rows of b, along k
      const T* bp[NB];
      for (std::size_t q = 0; q < NB; ++q) bp[q] = b + (j + q) * ldb + pc;
      for (std::size_t k = 0; k < kc; ++k, ap += a_k) {
        T bv[NB];
        for (std::size_t q = 0; q < NB; ++q) bv[q] = *bp[q]++;
        step(bv);
      }
    } else {  ///< op(B)(pc + k, j + q) = b[(pc + k) * ldb + j + q]: NB neighbours in a row
      const T* row = b + pc * ldb + j;
      for (std::size_t k = 0; k < kc; ++k, ap += a_k, row += ldb) {
        T bv[NB];
        for (std::size_t q = 0; q < NB; ++q) bv[q] = row[q];
        step(bv);
      }
    }
    for (std::size_t m = 0; m < MS; ++m)
      for (std::size_t q = 0; q < NB; ++q) {
        T* p = c + m * ldc + j + q;
        B base;
        if (first) {
          base = beta == T(0) ? B(T(0)) : B(beta) * B(*p);
          if (bias) base = base + B(bias[j + q]);
        } else {
          base = B(*p);
        }
        *p = v::fma(B(alpha), B(acc[m][q]), base).x;
      }
  };
  /// Eight neighbouring columns per pass for one or two rows (16 accumulators and 8 operands fit
  /// the 32 single-precision registers of a Cortex-M FPU); four otherwise, and for op(B) = B^T,
  /// whose columns each need a pointer of their own.
  constexpr std::size_t wide = (MS <= 2 && !TB) ? 8 : 4;
  std::size_t j = n0;
  for (; j + wide <= n1; j += wide) columns(j, std::integral_constant<std::size_t, wide>{});
  for (; j + 4 <= n1; j += 4) columns(j, std::integral_constant<std::size_t, 4>{});
  for (; j < n1; ++j) columns(j, std::integral_constant<std::size_t, 1>{});
}

/// Few rows (a generated token, a short prompt): packing A and B's panels would cost as much as
/// the product, so B is streamed once. Rows MS <= 4 at a time, columns [n0, n1) only, so threads
/// can split N. Every output is rounded exactly as the blocked path rounds it - the same K blocks,
/// a sequential FMA chain over k inside each, then alpha*acc + (beta*C + bias) as one FMA - so a
/// model gives bit-identical results whether it runs 1 row or 100 (the KV cache relies on this).
/// For op(B) = B^T, each K block of B's rows is first transposed into the thread's scratch.
template <class T, std::size_t MS>
void gemm_small_m(bool ta, bool tb, std::size_t n0, std::size_t n1, std::size_t K, T alpha, const T* a,
                  std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const T* bias,
                  std::byte* scratch) {
  using B = simd<T>;
  using G = gemm_blocking<T>;
  const std::size_t nw = n1 - n0;
  auto a_at = [&](std::size_t m, std::size_t k) { return ta ? a[k * lda + m] : a[m * lda + k]; };
  for (std::size_t pc = 0; pc < K; pc += G::KC) {
    const std::size_t kc = std::min(G::KC, K - pc);
    const bool first = pc == 0;
    if constexpr (B::size == 1) {
      if (tb)
        one_lane_block<T, MS, true>(ta, n0, n1, pc, kc, first, alpha, a, lda, b, ldb, beta, c, ldc, bias);
      else
        one_lane_block<T, MS, false>(ta, n0, n1, pc, kc, first, alpha, a, lda, b, ldb, beta, c, ldc, bias);
      continue;
    }
    const T* bk;  ///< op(B)[pc + k][n0 + j] = bk[k * ldk + j]
    std::size_t ldk;
    if (tb) {
      T* t = reinterpret_cast<T*>(scratch);
      for (std::size_t j = 0; j < nw; ++j) {
        const T* row = b + (n0 + j) * ldb + pc;
        for (std::size_t k = 0; k < kc; ++k) t[k * nw + j] = row[k];
      }
      bk = t;
      ldk = nw;
    } else {
      bk = b + pc * ldb + n0;
      ldk = ldb;
    }
    /// Columns one batch at a time, the last partial batch zero-padded: every column runs the same
    /// vector FMA (fused or not, as the build's SIMD has it) as the blocked path's tiles.
    for_each_block<T>(nw, [&](std::size_t j, std::size_t count) {
      B acc[MS];
      for (std::size_t m = 0; m < MS; ++m) acc[m] = B(T(0));
      for (std::size_t k = 0; k < kc; ++k) {
        const B bv = load_n(bk + k * ldk + j, count);
        for (std::size_t m = 0; m < MS; ++m) acc[m] = v::fma(B(a_at(m, pc + k)), bv, acc[m]);
      }
      for (std::size_t m = 0; m < MS; ++m) {
        T* p = c + m * ldc + n0 + j;
        B base;
        if (first) {
          base = beta == T(0) ? B(T(0)) : B(beta) * load_n(p, count);
          if (bias) base = base + load_n(bias + n0 + j, count);
        } else {
          base = load_n(p, count);
        }
        store_n<T>(v::fma(B(alpha), acc[m], base), p, count);
      }
    });
  }
}

}  // namespace detail

/// C(M,N) = alpha * op(A) * op(B) + beta * C + bias, op(A) is (M,K) and op(B) is (K,N).
/// Row-major with leading dimensions lda, ldb, ldc. beta == 0 never reads C; bias may be null.
/// Runs on `pool` when it has several threads and the product is large enough to pay for it.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
          const T* bias = nullptr, thread_pool& pool = default_pool()) {
  using G = detail::gemm_blocking<T>;
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j) {
        T v = beta == T(0) ? T(0) : beta * c[i * ldc + j];
        c[i * ldc + j] = bias ? v + bias[j] : v;
      }
    return;
  }
  const std::size_t threads = pool.size();
  const double flops = 2.0 * double(M) * double(N) * double(K);
  if (M <= 4 || !G::blocked) {
    /// Split N into chunks of up to 64 columns (fewer with a small scratch; fixed, so results do
    /// not depend on the thread count), and M into groups of up to 4 rows.
    const std::size_t cols = G::small_cols(K);
    const std::size_t chunks = (N + cols - 1) / cols;
    for (std::size_t m0 = 0; m0 < M; m0 += 4) {
      const std::size_t ms = std::min<std::size_t>(4, M - m0);
      const T* am = trans_a ? a + m0 : a + m0 * lda;
      T* cm = c + m0 * ldc;
      auto run = [&](std::size_t t, unsigned) {
        const std::size_t n0 = t * cols, n1 = std::min(N, n0 + cols);
        std::byte* scratch = pool.scratch();
        switch (ms) {
          case 1: detail::gemm_small_m<T, 1>(trans_a, trans_b, n0, n1, K, alpha, am, lda, b, ldb, beta, cm, ldc, bias, scratch); break;
          case 2: detail::gemm_small_m<T, 2>(trans_a, trans_b, n0, n1, K, alpha, am, lda, b, ldb, beta, cm, ldc, bias, scratch); break;
          case 3: detail::gemm_small_m<T, 3>(trans_a, trans_b, n0, n1, K, alpha, am, lda, b, ldb, beta, cm, ldc, bias, scratch); break;
          default: detail::gemm_small_m<T, 4>(trans_a, trans_b, n0, n1, K, alpha, am, lda, b, ldb, beta, cm, ldc, bias, scratch); break;
        }
      };
      if (threads == 1 || flops < 2.0e5)
        for (std::size_t t = 0; t < chunks; ++t) run(t, 0);
      else
        pool.parallel_for(chunks, run);
    }
    return;
  }
  if (threads == 1 || flops < 2.0e6) {
    detail::gemm_block<T>(trans_a, trans_b, 0, M, 0, N, K, alpha, a, lda, b, ldb, beta, c, ldc,
                          bias, pool.scratch());
    return;
  }
  /// Split the larger side into one chunk per thread, on the MR / NR grid.
  const bool split_m = (M / G::MR) >= (N / G::NR);
  const std::size_t unit = split_m ? G::MR : G::NR;
  const std::size_t units = ((split_m ? M : N) + unit - 1) / unit;
  const std::size_t tasks = std::min<std::size_t>(threads, units);
  pool.parallel_for(tasks, [&](std::size_t t, unsigned) {
    const std::size_t u0 = units * t / tasks, u1 = units * (t + 1) / tasks;
    std::size_t lo = u0 * unit, hi = std::min(u1 * unit, split_m ? M : N);
    if (lo >= hi) return;
    if (split_m)
      detail::gemm_block<T>(trans_a, trans_b, lo, hi, 0, N, K, alpha, a, lda, b, ldb, beta, c, ldc,
                            bias, pool.scratch());
    else
      detail::gemm_block<T>(trans_a, trans_b, 0, M, lo, hi, K, alpha, a, lda, b, ldb, beta, c, ldc,
                            bias, pool.scratch());
  });
}

/// Forward of a linear layer: C(M,N) (+)= A(M,K) * B(K,N) (+ bias(N)).
template <class T>
void gemm_nn(std::size_t M, std::size_t N, std::size_t K, const T* a, std::size_t lda, const T* b,
             std::size_t ldb, T* c, std::size_t ldc, const T* bias = nullptr,
             gemm_mode mode = gemm_mode::overwrite, thread_pool& pool = default_pool()) {
  gemm<T>(false, false, M, N, K, T(1), a, lda, b, ldb,
          mode == gemm_mode::accumulate ? T(1) : T(0), c, ldc, bias, pool);
}
/// Input gradient: dA(M,K) (+)= dC(M,N) * B(K,N)^T, here written C(M,N) (+)= A(M,K) * B(N,K)^T.
template <class T>
void gemm_nt(std::size_t M, std::size_t N, std::size_t K, const T* a, std::size_t lda, const T* b,
             std::size_t ldb, T* c, std::size_t ldc, gemm_mode mode = gemm_mode::accumulate,
             thread_pool& pool = default_pool()) {
  gemm<T>(false, true, M, N, K, T(1), a, lda, b, ldb,
          mode == gemm_mode::accumulate ? T(1) : T(0), c, ldc, nullptr, pool);
}
/// Weight gradient: dB(K,N) (+)= A(M,K)^T * dC(M,N), here written C(M,N) (+)= A(K,M)^T * B(K,N).
template <class T>
void gemm_tn(std::size_t M, std::size_t N, std::size_t K, const T* a, std::size_t lda, const T* b,
             std::size_t ldb, T* c, std::size_t ldc, gemm_mode mode = gemm_mode::accumulate,
             thread_pool& pool = default_pool()) {
  gemm<T>(true, false, M, N, K, T(1), a, lda, b, ldb,
          mode == gemm_mode::accumulate ? T(1) : T(0), c, ldc, nullptr, pool);
}

namespace scalar {

/// The plain twin: same contract as kernels::gemm, no blocking and no SIMD. Loop order is chosen
/// so that the inner loop walks memory contiguously; the arithmetic is one plain sum per element.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
          const T* bias = nullptr) {
  for (std::size_t i = 0; i < M; ++i) {
    T* crow = c + i * ldc;
    if (trans_b) {
      for (std::size_t j = 0; j < N; ++j) {
        T acc = 0;
        for (std::size_t k = 0; k < K; ++k)
          acc += (trans_a ? a[k * lda + i] : a[i * lda + k]) * b[j * ldb + k];
        T v = alpha * acc;
        if (beta != T(0)) v += beta * crow[j];
        if (bias) v += bias[j];
        crow[j] = v;
      }
    } else {
      // Row i of the product is a combination of rows of B; keep beta*C + bias aside.
      for (std::size_t j = 0; j < N; ++j) {
        T base = beta == T(0) ? T(0) : beta * crow[j];
        if (bias) base += bias[j];
        crow[j] = base;
      }
      for (std::size_t k = 0; k < K; ++k) {
        const T av = alpha * (trans_a ? a[k * lda + i] : a[i * lda + k]);
        const T* brow = b + k * ldb;
        for (std::size_t j = 0; j < N; ++j) crow[j] += av * brow[j];
      }
    }
  }
}

}  // namespace scalar
}  // namespace ctformer::kernels

CTFORMER_KERNELS_END
