// Pruning. Unstructured: in every weight matrix (role::weight: the linear layers, not embeddings,
// norms or biases) the `sparsity` fraction of entries with the smallest |w| become zero, matrix by
// matrix. Structured: whole attention heads (their q, k, v columns and their rows of the output
// projection) and whole FFN neurons (a column of fc with its bias, a row of fc2) of the lowest L2
// norm. Both return a mask of the params' own type (1 keep, 0 pruned); apply_mask() keeps pruned
// weights at zero, and a trainer given the mask re-applies it after every optimizer step.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <numeric>
#include <vector>

#include "../error.hpp"
#include "../layers/block.hpp"
#include "../models/init.hpp"
#include "../optim/mask.hpp"
#include "../tensor/visit.hpp"

namespace ctformer {

/// Fraction of zero entries among the weight matrices (role::weight), and over everything.
struct sparsity_report {
  double weights = 0;  ///< fraction of zeros in the weight matrices
  double all = 0;  ///< fraction of zeros over every tensor
};
template <class P>
sparsity_report measure_sparsity(const P& params) {
  std::size_t wz = 0, wn = 0, az = 0, an = 0;
  for_each_tensor(params, [&](const tensor_info& info, const auto& t) {
    std::size_t z = 0;
    for (std::size_t i = 0; i < t.size(); ++i) z += t.data()[i] == 0;
    az += z;
    an += t.size();
    if (info.role == role::weight) {
      wz += z;
      wn += t.size();
    }
  });
  return {wn ? double(wz) / double(wn) : 0.0, an ? double(az) / double(an) : 0.0};
}

/// Unstructured magnitude pruning of every weight matrix to `sparsity` (0 <= sparsity < 1).
/// Updates `mask` (entries already 0 stay 0) and zeroes the pruned weights.
template <class P>
void prune_magnitude(P& params, P& mask, double sparsity) {
  if (!(sparsity >= 0 && sparsity < 1)) fail("prune_magnitude: sparsity must be in [0, 1), got {}", sparsity);
  for_each_tensor(params, mask, [&](const tensor_info& info, auto& w, auto& m) {
    if (info.role != role::weight) return;
    const std::size_t n = w.size(), k = std::size_t(std::floor(sparsity * double(n)));
    if (k == 0) return;
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    /// Ties (equal magnitudes) are broken by index, so the result is deterministic.
    auto mag = [&](std::size_t i) { return m.data()[i] == 0 ? -1.0 : std::abs(double(w.data()[i])); };
    std::nth_element(order.begin(), order.begin() + std::ptrdiff_t(k), order.end(), [&](std::size_t a, std::size_t b) {
      const double ma = mag(a), mb = mag(b);
      return ma < mb || (ma == mb && a < b);
    });
    for (std::size_t j = 0; j < k; ++j) m.data()[order[j]] = 0;
  });
  apply_mask(params, mask);
}

/// Structured pruning inside transformer blocks: in every block, the `head_fraction` of attention
/// heads and the `neuron_fraction` of FFN neurons with the smallest L2 norm are removed.
/// Works on any model whose blocks are block_params (all three architectures' self-attention).
struct structured_prune_report {
  std::size_t heads_pruned = 0;    ///< attention heads pruned
  std::size_t heads_total = 0;     ///< attention heads in all
  std::size_t neurons_pruned = 0;  ///< FFN neurons pruned
  std::size_t neurons_total = 0;   ///< FFN neurons in all
};

namespace detail {

template <class T, std::size_t C, std::size_t F, family Fam, bool Cross>
void prune_block(block_params<T, C, F, Fam, Cross>& p, block_params<T, C, F, Fam, Cross>& m, std::size_t H,
                 double head_fraction, double neuron_fraction, structured_prune_report& r) {
  const std::size_t D = C / H;
  /// A head's weights: its D columns of q, k and v (in, out layout) and its D rows of the projection.
  auto head_cols = [&](auto& params, auto&& fn) {
    for (std::size_t h = 0; h < H; ++h) {
      if constexpr (block_params<T, C, F, Fam, Cross>::fused_qkv) {
        for (std::size_t part = 0; part < 3; ++part)
          for (std::size_t i = 0; i < C; ++i)
            for (std::size_t d = 0; d < D; ++d) fn(h, params.qkv.weight(i, part * C + h * D + d));
        for (std::size_t part = 0; part < 3; ++part)
          for (std::size_t d = 0; d < D; ++d) fn(h, params.qkv.bias(part * C + h * D + d));
      } else {
        for (auto* lin : {&params.q, &params.k, &params.v}) {
          for (std::size_t i = 0; i < C; ++i)
            for (std::size_t d = 0; d < D; ++d) fn(h, lin->weight(i, h * D + d));
          for (std::size_t d = 0; d < D; ++d) fn(h, lin->bias(h * D + d));
        }
      }
      for (std::size_t d = 0; d < D; ++d)
        for (std::size_t j = 0; j < C; ++j) fn(h, params.proj.weight(h * D + d, j));
    }
  };
  auto neuron = [&](auto& params, auto&& fn) {
    for (std::size_t f = 0; f < F; ++f) {
      for (std::size_t i = 0; i < C; ++i) fn(f, params.fc.weight(i, f));
      fn(f, params.fc.bias(f));
      for (std::size_t j = 0; j < C; ++j) fn(f, params.fc2.weight(f, j));
    }
  };
  auto prune_units = [&](std::size_t units, double fraction, auto&& visit, std::size_t& pruned, std::size_t& total) {
    std::vector<double> norm(units, 0.0);
    visit(p, [&](std::size_t u, T& w) { norm[u] += double(w) * double(w); });
    std::vector<std::size_t> order(units);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return norm[a] < norm[b]; });
    const std::size_t k = std::size_t(std::floor(fraction * double(units)));
    std::vector<bool> cut(units, false);
    for (std::size_t j = 0; j < k; ++j) cut[order[j]] = true;
    visit(m, [&](std::size_t u, T& v) {
      if (cut[u]) v = T(0);
    });
    pruned += k;
    total += units;
  };
  prune_units(H, head_fraction, head_cols, r.heads_pruned, r.heads_total);
  prune_units(F, neuron_fraction, neuron, r.neurons_pruned, r.neurons_total);
}

}  // namespace detail

/// For decoder_lm (params.h), encoder (params.body.layer) and seq2seq (params.enc and .dec).
template <class Model>
structured_prune_report prune_structured(typename Model::params& p, typename Model::params& mask,
                                         double head_fraction, double neuron_fraction) {
  if (!(head_fraction >= 0 && head_fraction < 1 && neuron_fraction >= 0 && neuron_fraction < 1))
    fail("prune_structured: fractions must be in [0, 1), got {} and {}", head_fraction, neuron_fraction);
  structured_prune_report r;
  auto blocks = [&](auto& pl, auto& ml) {
    for (std::size_t l = 0; l < pl.size(); ++l)
      detail::prune_block(pl[l], ml[l], Model::H, head_fraction, neuron_fraction, r);
  };
  if constexpr (requires { p.h; }) {
    blocks(p.h, mask.h);
  } else if constexpr (requires { p.body.layer; }) {
    blocks(p.body.layer, mask.body.layer);
  } else {
    blocks(p.enc, mask.enc);
    blocks(p.dec, mask.dec);
  }
  apply_mask(p, mask);
  return r;
}

}  // namespace ctformer
