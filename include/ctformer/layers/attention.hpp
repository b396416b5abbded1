// Multi-head scaled dot-product attention over projected queries, keys and values:
// A = softmax(Q K^T / sqrt(D) + mask) per (batch row, head), Y = A V. Self, causal self and
// cross attention differ only in where K and V come from and in the mask. A key whose mask is 0
// gets exactly zero weight; causal rows see keys j <= i + offset. Work runs per (b, h) on the
// thread pool; each task writes its own rows and head columns, so results never depend on threads.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../tensor/kernels/gemm.hpp"
#include "../tensor/kernels/softmax.hpp"
#include "../tensor/threading.hpp"
#include "dropout.hpp"

namespace ctformer {

/// Where Q, K and V live: row r of head h starts at ptr + r * ld + h * D. Rows are (b, s) pairs.
template <class T>
struct qkv_ptrs {
  const T* q;  ///< queries
  std::size_t ldq;  ///< elements between consecutive rows of q
  const T* k;  ///< keys
  std::size_t ldk;  ///< elements between consecutive rows of k
  const T* v;  ///< values
  std::size_t ldv;  ///< elements between consecutive rows of v
};
/// Where the gradients of Q, K and V go, laid out as in qkv_ptrs.
template <class T>
struct dqkv_ptrs {
  T* q;  ///< gradient of the queries
  std::size_t ldq;  ///< elements between consecutive rows of q
  T* k;  ///< gradient of the keys
  std::size_t ldk;  ///< elements between consecutive rows of k
  T* v;  ///< gradient of the values
  std::size_t ldv;  ///< elements between consecutive rows of v
};

/// Which keys each query may attend to: a key padding mask, causality, and a KV-cache offset.
struct attention_mask {
  const std::int32_t* keys = nullptr;  ///< (B, Sk): 1 real key, 0 padding; null means all real
  bool causal = false;  ///< query i attends only to keys up to i + offset
  std::size_t offset = 0;  ///< earlier positions already in a KV cache (causal limit i + offset)
};

/// Dropout on the attention probabilities, when the model has any.
template <class T>
struct attention_dropout {
  float p = 0.0f;  ///< dropout probability on the attention probabilities
  T* mask = nullptr;     ///< (B, H, Sq, Sk) multipliers, written in forward
  T* dropped = nullptr;  ///< (B, H, Sq, Sk) A * mask, the matrix that multiplies V
  std::uint64_t site = 0;  ///< distinct per attention call, for the dropout random stream
};

/// y (B*Sq, H*D) = attention; att (B, H, Sq, Sk) caches the probabilities for backward.
template <class T, std::size_t B, std::size_t Sq, std::size_t Sk, std::size_t H, std::size_t D>
void attention_forward(T* y, T* att, const qkv_ptrs<T>& in, const attention_mask& mask,
                       const run_mode& mode = {}, const attention_dropout<T>& drop = {}) {
  constexpr std::size_t C = H * D;
  const T scale = T(1) / std::sqrt(T(D));
  const bool use_drop = mode.train && drop.p > 0.0f && drop.mask;
  default_pool().parallel_for(B * H, [&](std::size_t task, unsigned) {
    const std::size_t b = task / H, h = task % H;
    T* a = att + task * Sq * Sk;
    const T* q = in.q + b * Sq * in.ldq + h * D;
    const T* k = in.k + b * Sk * in.ldk + h * D;
    const T* v = in.v + b * Sk * in.ldv + h * D;
    kernels::gemm<T>(false, true, Sq, Sk, D, scale, q, in.ldq, k, in.ldk, T(0), a, Sk);
    const std::int32_t* km = mask.keys ? mask.keys + b * Sk : nullptr;
    for (std::size_t i = 0; i < Sq; ++i) {
      const std::size_t limit = mask.causal ? std::min(Sk, i + mask.offset + 1) : Sk;
      T* row = a + i * Sk;
      if (km)
        kernels::softmax_row_masked<T>(row, row, Sk, km, limit);
      else
        kernels::softmax_row<T>(row, row, Sk, limit);
    }
    const T* p = a;
    if (use_drop) {
      T* dm = drop.mask + task * Sq * Sk;
      T* dd = drop.dropped + task * Sq * Sk;
      dropout_forward(dd, dm, a, Sq * Sk, drop.p, mode, drop.site * 4096 + task);
      p = dd;
    }
    kernels::gemm<T>(false, false, Sq, D, Sk, T(1), p, Sk, v, in.ldv, T(0), y + b * Sq * C + h * D, C);
  });
}

/// Adds the gradients of q, k, v given dy (B*Sq, H*D). datt is (B, H, Sq, Sk) scratch.
/// Each row's softmax backward runs over the keys it could see (up to its causal limit and its
/// last real key), so the sums inside do not depend on how much padding follows: the same
/// sequences padded to two lengths give bit-identical gradients.
template <class T, std::size_t B, std::size_t Sq, std::size_t Sk, std::size_t H, std::size_t D>
void attention_backward(const dqkv_ptrs<T>& d, T* datt, const T* dy, const T* att,
                        const qkv_ptrs<T>& in, const attention_mask& mask,
                        const run_mode& mode = {}, const attention_dropout<T>& drop = {}) {
  constexpr std::size_t C = H * D;
  const T scale = T(1) / std::sqrt(T(D));
  const bool use_drop = mode.train && drop.p > 0.0f && drop.mask;
  default_pool().parallel_for(B * H, [&](std::size_t task, unsigned) {
    const std::size_t b = task / H, h = task % H;
    const T* a = att + task * Sq * Sk;
    const T* p = use_drop ? drop.dropped + task * Sq * Sk : a;
    T* da = datt + task * Sq * Sk;
    const T* dyb = dy + b * Sq * C + h * D;
    const T* q = in.q + b * Sq * in.ldq + h * D;
    const T* k = in.k + b * Sk * in.ldk + h * D;
    const T* v = in.v + b * Sk * in.ldv + h * D;
    /// dP = dY V^T ; dV += P^T dY
    kernels::gemm<T>(false, true, Sq, Sk, D, T(1), dyb, C, v, in.ldv, T(0), da, Sk);
    kernels::gemm<T>(true, false, Sk, D, Sq, T(1), p, Sk, dyb, C, T(1), d.v + b * Sk * d.ldv + h * D, d.ldv);
    if (use_drop) {
      const T* dm = drop.mask + task * Sq * Sk;
      for (std::size_t i = 0; i < Sq * Sk; ++i) da[i] *= dm[i];
    }
    /// dS = softmax'(A) dA, in place; the 1/sqrt(D) of the scores goes into the next two products.
    std::size_t keys = Sk;  ///< one past the last real key of this batch row
    if (mask.keys) {
      while (keys > 0 && mask.keys[b * Sk + keys - 1] == 0) --keys;
    }
    for (std::size_t i = 0; i < Sq; ++i) {
      const std::size_t n = std::min(keys, mask.causal ? std::min(Sk, i + mask.offset + 1) : Sk);
      T* row = da + i * Sk;
      kernels::softmax_backward_row<T>(row, a + i * Sk, row, n, false);
      for (std::size_t j = n; j < Sk; ++j) row[j] = T(0);
    }
    kernels::gemm<T>(false, false, Sq, D, Sk, scale, da, Sk, k, in.ldk, T(1), d.q + b * Sq * d.ldq + h * D, d.ldq);
    kernels::gemm<T>(true, false, Sk, D, Sq, scale, da, Sk, q, in.ldq, T(1), d.k + b * Sk * d.ldk + h * D, d.ldk);
  });
}

/// Self-attention whose keys and values live in a cache: new row r is position pos_of[r] of
/// sequence row_of[r]. Its key and value are stored at that position, then it attends to
/// positions 0..pos_of[r] of its sequence. keys / values are one layer's (sequences, Ctx, C).
/// A block's cache (any struct with qkv (rows, 3C) and att (>= H x MaxPiece x Ctx)) provides
/// the projections and the probabilities' buffer. Consecutive positions of one sequence attend
/// together in power-of-two pieces of at most MaxPiece rows; rows of attention are independent,
/// so any cut gives the same bits as the full forward's causal attention.
template <class T, std::size_t Ctx, std::size_t H, std::size_t D, std::size_t MaxPiece>
struct cached_self_attention {
  static_assert(std::has_single_bit(MaxPiece), "ctformer: attention pieces are powers of two");
  T* keys;  ///< one layer's cached keys (sequences, Ctx, C)
  T* values;  ///< one layer's cached values (sequences, Ctx, C)
  const std::size_t* row_of;  ///< row_of[r]: the sequence of row r
  const std::size_t* pos_of;  ///< pos_of[r]: the position of row r in its sequence

  template <class Cache>
  void operator()(T* y, Cache& c, std::size_t n) const {
    constexpr std::size_t C = H * D;
    const T* qkv = c.qkv.data();
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t at = (row_of[r] * Ctx + pos_of[r]) * C;
      std::memcpy(keys + at, qkv + r * 3 * C + C, C * sizeof(T));
      std::memcpy(values + at, qkv + r * 3 * C + 2 * C, C * sizeof(T));
    }
    std::size_t r = 0;
    while (r < n) {
      /// A run: consecutive positions of one sequence.
      std::size_t e = r + 1;
      while (e < n && row_of[e] == row_of[r] && pos_of[e] == pos_of[e - 1] + 1) ++e;
      const std::size_t seq = row_of[r] * Ctx * C;
      while (r < e) {
        const std::size_t sq = std::min(MaxPiece, std::bit_floor(e - r));
        const qkv_ptrs<T> in{qkv + r * 3 * C, 3 * C, keys + seq, C, values + seq, C};
        piece<MaxPiece>(sq, y + r * C, c.att.data(), in, pos_of[r]);
        r += sq;
      }
    }
  }

 private:
  /// Attention of sq consecutive positions, sq a power of two chosen at run time.
  template <std::size_t Sq>
  static void piece(std::size_t sq, T* y, T* att, const qkv_ptrs<T>& in, std::size_t first_pos) {
    if constexpr (Sq > 1) {
      if (sq < Sq) return piece<Sq / 2>(sq, y, att, in, first_pos);
    }
    attention_forward<T, 1, Sq, Ctx, H, D>(y, att, in, attention_mask{nullptr, true, first_pos}, run_mode::eval());
  }
};

}  // namespace ctformer
