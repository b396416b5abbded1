// Fixed-shape batches: the boundary between preprocessing (data/) and the models. A batch's type
// carries <Batch, Seq>, so a loader built for one model cannot feed another of a different shape.
// Token ids are int32; labels use ignore_index (-100, as PyTorch) where no loss is wanted;
// attention_mask is 1 for a real token and 0 for padding.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../tensor/tensor.hpp"

namespace ctformer {

inline constexpr std::int32_t ignore_index = -100;

/// Language modelling and MLM: inputs and per-position targets (next token, or masked token).
template <std::size_t B, std::size_t S>
struct token_batch {
  /// Batch size B.
  static constexpr std::size_t batch = B, seq = S;  ///< sequence length S
  tensor2<std::int32_t, B, S> ids;             ///< (B, S)
  tensor2<std::int32_t, B, S> targets;         ///< (B, S) ignore_index where no loss
  tensor2<std::int32_t, B, S> attention_mask;  ///< (B, S) 1 real, 0 pad
  tensor2<std::int32_t, B, S> token_type;      ///< (B, S) segment ids (0 for single texts)
};

/// Sequence classification: one class per row.
template <std::size_t B, std::size_t S>
struct classification_batch {
  /// Batch size B.
  static constexpr std::size_t batch = B, seq = S;  ///< sequence length S
  tensor2<std::int32_t, B, S> ids;             ///< (B, S)
  tensor2<std::int32_t, B, S> attention_mask;  ///< (B, S)
  tensor2<std::int32_t, B, S> token_type;      ///< (B, S)
  tensor1<std::int32_t, B> labels;             ///< (B) class index, ignore_index for a padded row
};

/// Sequence regression: one value per row; weight 0 marks a padded row.
template <std::size_t B, std::size_t S>
struct regression_batch {
  /// Batch size B.
  static constexpr std::size_t batch = B, seq = S;  ///< sequence length S
  tensor2<std::int32_t, B, S> ids;             ///< (B, S)
  tensor2<std::int32_t, B, S> attention_mask;  ///< (B, S)
  tensor2<std::int32_t, B, S> token_type;      ///< (B, S)
  tensor1<float, B> values;                    ///< (B)
  tensor1<float, B> row_weight;                ///< (B) 1 real row, 0 padded row
};

/// Encoder-decoder: source, decoder inputs (target shifted right, starting with bos) and
/// decoder targets (target followed by eos), each with its own length.
template <std::size_t B, std::size_t Src, std::size_t Tgt>
struct seq2seq_batch {
  static constexpr std::size_t batch = B;      ///< batch size B
  static constexpr std::size_t src_seq = Src;  ///< source length Src
  static constexpr std::size_t tgt_seq = Tgt;  ///< target length Tgt
  tensor2<std::int32_t, B, Src> src_ids;        ///< (B, Src)
  tensor2<std::int32_t, B, Src> src_mask;       ///< (B, Src)
  tensor2<std::int32_t, B, Tgt> tgt_in;         ///< (B, Tgt) decoder inputs
  tensor2<std::int32_t, B, Tgt> tgt_out;        ///< (B, Tgt) targets, ignore_index on padding
  tensor2<std::int32_t, B, Tgt> tgt_mask;       ///< (B, Tgt)
};

}  // namespace ctformer
