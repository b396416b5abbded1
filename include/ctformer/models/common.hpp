// Small pieces the model types share: optional fields in a fields() tuple, and the padding mask
// reduced to null when a batch has no padding (so attention takes its fast unmasked path).
#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>

namespace ctformer::detail {

/// fields() entry present only when On; make() builds the entry.
template <bool On, class Make>
constexpr auto optional_field(Make make) {
  if constexpr (On)
    return std::tuple{make()};
  else
    return std::tuple<>{};
}

/// sqrt usable in constant expressions (std::sqrt is not constexpr in C++20).
constexpr double constexpr_sqrt(double x) {
  if (x <= 0) return 0;
  double r = x > 1 ? x : 1;
  for (int i = 0; i < 64; ++i) r = 0.5 * (r + x / r);
  return r;
}

inline const std::int32_t* mask_or_null(const std::int32_t* mask, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (mask[i] == 0) return mask;
  return nullptr;
}

}  // namespace ctformer::detail

#include "../data/batch.hpp"

namespace ctformer {

/// How many targets a batch's loss averages over: real target tokens for language modelling and
/// seq2seq, labelled rows for classification, rows with weight for regression. Gradient
/// accumulation weighs micro-batches by it, so that their sum equals one big batch's mean.
template <std::size_t B, std::size_t S>
std::size_t count_targets(const token_batch<B, S>& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < B * S; ++i) n += b.targets.data()[i] != ignore_index;
  return n;
}
template <std::size_t B, std::size_t S>
std::size_t count_targets(const classification_batch<B, S>& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < B; ++i) n += b.labels.data()[i] != ignore_index;
  return n;
}
template <std::size_t B, std::size_t S>
std::size_t count_targets(const regression_batch<B, S>& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < B; ++i) n += b.row_weight.data()[i] != 0.0f;
  return n;
}
template <std::size_t B, std::size_t Ss, std::size_t St>
std::size_t count_targets(const seq2seq_batch<B, Ss, St>& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < B * St; ++i) n += b.tgt_out.data()[i] != ignore_index;
  return n;
}

/// The workspace type a model needs for a batch type.
template <class Model, class Batch>
struct workspace_for;
/// Batches of (B, S) token ids: Model::workspace<B, S>.
template <class Model, template <std::size_t, std::size_t> class BatchT, std::size_t B, std::size_t S>
struct workspace_for<Model, BatchT<B, S>> {
  using type = typename Model::template workspace<B, S>;  ///< Model::workspace<B, S>
};
/// Source-target batches: Model::workspace<B, Ss, St>.
template <class Model, std::size_t B, std::size_t Ss, std::size_t St>
struct workspace_for<Model, seq2seq_batch<B, Ss, St>> {
  using type = typename Model::template workspace<B, Ss, St>;  ///< Model::workspace<B, Ss, St>
};
template <class Model, class Batch>
using workspace_for_t = typename workspace_for<Model, Batch>::type;

/// Positions a batch feeds through the model (for tokens per second).
template <class Batch>
constexpr std::size_t batch_positions() {
  if constexpr (requires { Batch::tgt_seq; })
    return Batch::batch * (Batch::src_seq + Batch::tgt_seq);
  else
    return Batch::batch * Batch::seq;
}

}  // namespace ctformer
