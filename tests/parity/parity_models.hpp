// The three small models of the PyTorch parity check, shared by the fixture generator
// (tests/reference/make_parity_inputs.cpp) and the parity test. tests/reference/torch_models.py
// builds the same models in PyTorch; change both together.
#pragma once

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/models/seq2seq.hpp>

namespace ctformer::parity {

inline constexpr gpt_config gpt_cfg{.vocab = 24, .context = 12, .d_model = 16, .heads = 2, .d_ff = 32,
                                    .layers = 2};  // pre-LN, GELU, learned positions, tied head
inline constexpr bert_config bert_cfg{.vocab = 26, .context = 12, .d_model = 16, .heads = 2, .d_ff = 32,
                                      .layers = 2};  // post-LN, GELU, learned positions, MLM tied
inline constexpr seq2seq_config s2s_cfg{.src_vocab = 20, .tgt_vocab = 18, .src_context = 10, .tgt_context = 9,
                                        .d_model = 16, .heads = 2, .d_ff = 32, .enc_layers = 2,
                                        .dec_layers = 2};  // pre-LN, ReLU, sinusoidal, tied

template <class T = float>
using gpt_model = decoder_lm<gpt_cfg, T>;
template <class T = float>
using bert_model = encoder<bert_cfg, mlm, T>;
template <class T = float>
using s2s_model = seq2seq<s2s_cfg, T>;

inline constexpr std::size_t B = 2, S = 10;   // gpt and bert batches
inline constexpr std::size_t Ss = 8, St = 7;  // seq2seq
inline constexpr float label_smoothing = 0.1f;
inline constexpr int adamw_steps = 5;
inline constexpr float adamw_lr = 1e-2f, adamw_wd = 0.01f;

}  // namespace ctformer::parity
