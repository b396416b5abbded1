// Model configs: structural aggregates used as template arguments, one per architecture, plus
// the constexpr checks every model runs on them. Sizes are compile-time, so a mismatch between
// parts (heads not dividing d_model, a sequence longer than the context) fails to compile.
#pragma once

#include <cstddef>

namespace ctformer {

enum class norm_placement : unsigned char { pre, post };   // LayerNorm before or after the residual add
enum class activation : unsigned char { gelu, relu };      // of the feed-forward network (GELU: tanh form)
enum class positional : unsigned char { learned, sinusoidal };
enum class init_scheme : unsigned char {
  gpt2,            // normal(0, 0.02), residual projections scaled by 1/sqrt(2 L)
  normal,          // normal(0, init_std)
  xavier_uniform,  // U(-a, a), a = sqrt(6 / (fan_in + fan_out))
  xavier_normal,   // normal(0, sqrt(2 / (fan_in + fan_out)))
  kaiming          // normal(0, sqrt(2 / fan_in)) (He, for ReLU)
};
enum class pooling : unsigned char { cls, mean };  // [CLS] position, or mean over real tokens

// Decoder-only language model (GPT-like).
struct gpt_config {
  std::size_t vocab = 0;
  std::size_t context = 0;
  std::size_t d_model = 0;
  std::size_t heads = 1;
  std::size_t d_ff = 0;
  std::size_t layers = 1;
  std::size_t head_dim = 0;  // 0: d_model / heads; otherwise must equal it
  norm_placement norm = norm_placement::pre;
  ctformer::activation act = activation::gelu;
  positional pos = positional::learned;
  bool tied_head = true;
  float dropout = 0.0f;       // embeddings, residual branches and attention probabilities
  float ln_eps = 1e-5f;
  init_scheme init = init_scheme::gpt2;
  float init_std = 0.02f;
};

// Encoder (BERT-like), with token types and an embedding LayerNorm.
struct bert_config {
  std::size_t vocab = 0;
  std::size_t context = 0;
  std::size_t d_model = 0;
  std::size_t heads = 1;
  std::size_t d_ff = 0;
  std::size_t layers = 1;
  std::size_t type_vocab = 2;
  std::size_t head_dim = 0;
  norm_placement norm = norm_placement::post;
  ctformer::activation act = activation::gelu;
  positional pos = positional::learned;
  bool tied_head = true;      // the MLM decoder shares the word embeddings
  float dropout = 0.0f;
  float ln_eps = 1e-12f;
  init_scheme init = init_scheme::normal;
  float init_std = 0.02f;
};

// Encoder-decoder (the original Transformer): self-attention encoder, decoder with causal
// self-attention and cross-attention over the encoder's output.
struct seq2seq_config {
  std::size_t src_vocab = 0;
  std::size_t tgt_vocab = 0;
  std::size_t src_context = 0;
  std::size_t tgt_context = 0;
  std::size_t d_model = 0;
  std::size_t heads = 1;
  std::size_t d_ff = 0;
  std::size_t enc_layers = 1;
  std::size_t dec_layers = 1;
  std::size_t head_dim = 0;
  norm_placement norm = norm_placement::pre;
  ctformer::activation act = activation::relu;
  positional pos = positional::sinusoidal;
  bool tied_head = true;      // the output projection shares the target embeddings
  float dropout = 0.0f;
  float ln_eps = 1e-5f;
  init_scheme init = init_scheme::xavier_uniform;
  float init_std = 0.02f;
};

namespace detail {

// Checks shared by every architecture. Each failure names the rule it breaks.
template <std::size_t Vocab, std::size_t Context, std::size_t C, std::size_t H, std::size_t F,
          std::size_t HeadDim>
constexpr bool check_dims() {
  static_assert(Vocab > 0, "ctformer config: vocab must be positive");
  static_assert(Context > 0, "ctformer config: context must be positive");
  static_assert(C > 0 && F > 0, "ctformer config: d_model and d_ff must be positive");
  static_assert(H > 0, "ctformer config: heads must be positive");
  static_assert(C % H == 0, "ctformer config: heads must divide d_model");
  static_assert(HeadDim == 0 || HeadDim * H == C,
                "ctformer config: head width times heads must equal d_model");
  return true;
}

}  // namespace detail
}  // namespace ctformer
