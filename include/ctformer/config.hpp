// Model configs: structural aggregates used as template arguments, one per architecture, plus
// the constexpr checks every model runs on them. Sizes are compile-time, so a mismatch between
// parts (heads not dividing d_model, a sequence longer than the context) fails to compile.
// Configs have no padding bytes (checked below): Clang up to at least 20 miscompiles or crashes on
// a member of a padded class-type template argument (llvm-project issue 146272).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include "base/random.hpp"

namespace ctformer {

enum class norm_placement : unsigned char { pre, post };   ///< LayerNorm before or after the residual add
enum class activation : unsigned char { gelu, relu };      ///< of the feed-forward network (GELU: tanh form)
enum class positional : unsigned char { learned, sinusoidal };
enum class init_scheme : unsigned char {
  gpt2,            ///< normal(0, 0.02), residual projections scaled by 1/sqrt(2 L)
  normal,          ///< normal(0, init_std)
  xavier_uniform,  ///< U(-a, a), a = sqrt(6 / (fan_in + fan_out))
  xavier_normal,   ///< normal(0, sqrt(2 / (fan_in + fan_out)))
  kaiming          ///< normal(0, sqrt(2 / fan_in)) (He, for ReLU)
};
enum class pooling : unsigned char { cls, mean };  ///< [CLS] position, or mean over real tokens

/// A float config value, held as its IEEE-754 bits. It converts to and from float implicitly, so
/// `.dropout = 0.1f` and `Cfg.dropout > 0.0f` read as with a float member. Holding bits keeps
/// configs free of floating-point members, whose template-argument support differs between
/// compilers, and lets std::has_unique_object_representations prove that a config has no padding.
struct real {
  std::uint32_t bits = 0;  ///< IEEE-754 bits of the float
  constexpr real() = default;
  /// One constructor for float, double and integer literals alike: a float survives the trip
  /// through double exactly, and a double rounds as it would when stored in a float member.
  constexpr real(double v) : bits(std::bit_cast<std::uint32_t>(static_cast<float>(v))) {}
  /// The value as a float.
  constexpr operator float() const { return value(); }
  /// The value as a float.
  constexpr float value() const { return std::bit_cast<float>(bits); }
};

namespace detail {
/// Explicit padding, so that a config's every byte belongs to a member (always zero).
template <std::size_t N>
struct pad {
  std::uint8_t bytes[N] = {};
};
}  // namespace detail

/// Decoder-only language model (GPT-like).
struct gpt_config {
  std::size_t vocab = 0;  ///< vocabulary size: token ids are 0..vocab-1
  std::size_t context = 0;  ///< longest sequence, in tokens
  std::size_t d_model = 0;  ///< width of the residual stream
  std::size_t heads = 1;  ///< attention heads
  std::size_t d_ff = 0;  ///< width of the feed-forward hidden layer
  std::size_t layers = 1;  ///< number of blocks
  std::size_t head_dim = 0;  ///< 0: d_model / heads; otherwise must equal it
  norm_placement norm = norm_placement::pre;  ///< LayerNorm before or after the residual add
  ctformer::activation act = activation::gelu;  ///< activation of the feed-forward network
  positional pos = positional::learned;  ///< learned or sinusoidal positions
  bool tied_head = true;  ///< the LM head shares the token embeddings
  real dropout = 0.0f;        ///< embeddings, residual branches and attention probabilities
  real ln_eps = 1e-5f;  ///< LayerNorm epsilon
  init_scheme init = init_scheme::gpt2;  ///< how initialize() draws the weights
  detail::pad<3> pad_0 = {};  ///< fills the bytes a compiler would otherwise leave unset
  real init_std = 0.02f;  ///< standard deviation of embeddings, and of weights under gpt2 and normal
  detail::pad<4> pad_1 = {};  ///< fills the bytes a compiler would otherwise leave unset
};

/// Encoder (BERT-like), with token types and an embedding LayerNorm.
struct bert_config {
  std::size_t vocab = 0;  ///< vocabulary size: token ids are 0..vocab-1
  std::size_t context = 0;  ///< longest sequence, in tokens
  std::size_t d_model = 0;  ///< width of the residual stream
  std::size_t heads = 1;  ///< attention heads
  std::size_t d_ff = 0;  ///< width of the feed-forward hidden layer
  std::size_t layers = 1;  ///< number of layers
  std::size_t type_vocab = 2;  ///< token types (segments)
  std::size_t head_dim = 0;  ///< 0: d_model / heads; otherwise must equal it
  norm_placement norm = norm_placement::post;  ///< LayerNorm before or after the residual add
  ctformer::activation act = activation::gelu;  ///< activation of the feed-forward network
  positional pos = positional::learned;  ///< learned or sinusoidal positions
  bool tied_head = true;      ///< the MLM decoder shares the word embeddings
  real dropout = 0.0f;  ///< embeddings, residual branches and attention probabilities
  real ln_eps = 1e-12f;  ///< LayerNorm epsilon
  init_scheme init = init_scheme::normal;  ///< how initialize() draws the weights
  detail::pad<3> pad_0 = {};  ///< fills the bytes a compiler would otherwise leave unset
  real init_std = 0.02f;  ///< standard deviation of embeddings, and of weights under gpt2 and normal
  detail::pad<4> pad_1 = {};  ///< fills the bytes a compiler would otherwise leave unset
};

/// Encoder-decoder (the original Transformer): self-attention encoder, decoder with causal
/// self-attention and cross-attention over the encoder's output.
struct seq2seq_config {
  std::size_t src_vocab = 0;  ///< source vocabulary size
  std::size_t tgt_vocab = 0;  ///< target vocabulary size
  std::size_t src_context = 0;  ///< longest source sequence, in tokens
  std::size_t tgt_context = 0;  ///< longest target sequence, in tokens
  std::size_t d_model = 0;  ///< width of the residual stream
  std::size_t heads = 1;  ///< attention heads
  std::size_t d_ff = 0;  ///< width of the feed-forward hidden layer
  std::size_t enc_layers = 1;  ///< encoder layers
  std::size_t dec_layers = 1;  ///< decoder layers
  std::size_t head_dim = 0;  ///< 0: d_model / heads; otherwise must equal it
  norm_placement norm = norm_placement::pre;  ///< LayerNorm before or after the residual add
  ctformer::activation act = activation::relu;  ///< activation of the feed-forward network
  positional pos = positional::sinusoidal;  ///< learned or sinusoidal positions
  bool tied_head = true;      ///< the output projection shares the target embeddings
  real dropout = 0.0f;  ///< embeddings, residual branches and attention probabilities
  real ln_eps = 1e-5f;  ///< LayerNorm epsilon
  init_scheme init = init_scheme::xavier_uniform;  ///< how initialize() draws the weights
  detail::pad<3> pad_0 = {};  ///< fills the bytes a compiler would otherwise leave unset
  real init_std = 0.02f;  ///< standard deviation of embeddings, and of weights under gpt2 and normal
  detail::pad<4> pad_1 = {};  ///< fills the bytes a compiler would otherwise leave unset
};

/// Every byte of a config is a member's: a new member must keep it so (add or resize a pad).
static_assert(std::has_unique_object_representations_v<gpt_config>, "ctformer: gpt_config has padding");
static_assert(std::has_unique_object_representations_v<bert_config>, "ctformer: bert_config has padding");
static_assert(std::has_unique_object_representations_v<seq2seq_config>, "ctformer: seq2seq_config has padding");

namespace detail {

/// Checks shared by every architecture. Each failure names the rule it breaks.
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

/// A real formats as the float it holds, with every float format spec.
template <class Char>
struct fmt::formatter<ctformer::real, Char> : fmt::formatter<float, Char> {
  /// Writes r.value() with the float format spec.
  template <class FormatContext>
  auto format(ctformer::real r, FormatContext& ctx) const {
    return fmt::formatter<float, Char>::format(r.value(), ctx);
  }
};

// ---- describing configs: readable text and a compile-time signature ----------------------------
namespace ctformer {

constexpr const char* to_string(norm_placement n) { return n == norm_placement::pre ? "pre" : "post"; }
constexpr const char* to_string(activation a) { return a == activation::gelu ? "gelu" : "relu"; }
constexpr const char* to_string(positional p) { return p == positional::learned ? "learned" : "sinusoidal"; }
constexpr const char* to_string(pooling p) { return p == pooling::cls ? "cls" : "mean"; }
constexpr const char* to_string(init_scheme s) {
  switch (s) {
    case init_scheme::gpt2: return "gpt2";
    case init_scheme::normal: return "normal";
    case init_scheme::xavier_uniform: return "xavier_uniform";
    case init_scheme::xavier_normal: return "xavier_normal";
    case init_scheme::kaiming: return "kaiming";
  }
  return "?";
}

namespace detail {
struct signature_builder {
  std::uint64_t h = 0xC7F0A3E1D2B49685ull;
  constexpr signature_builder& add(std::uint64_t v) {
    h = mix64(h ^ v);
    return *this;
  }
  constexpr signature_builder& add(float f) { return add(std::uint64_t(std::bit_cast<std::uint32_t>(f))); }
  constexpr signature_builder& add(real r) { return add(std::uint64_t(r.bits)); }
  template <class E>
    requires std::is_enum_v<E>
  constexpr signature_builder& add(E e) {
    return add(std::uint64_t(e));
  }
  constexpr signature_builder& add(bool b) { return add(std::uint64_t(b)); }
};
}  // namespace detail

/// Every field that changes a model's shape or numbers goes into its signature.
constexpr std::uint64_t config_signature(const gpt_config& c) {
  detail::signature_builder s;
  s.add(std::uint64_t{1}).add(std::uint64_t(c.vocab)).add(std::uint64_t(c.context)).add(std::uint64_t(c.d_model))
      .add(std::uint64_t(c.heads)).add(std::uint64_t(c.d_ff)).add(std::uint64_t(c.layers)).add(c.norm).add(c.act)
      .add(c.pos).add(c.tied_head).add(c.dropout).add(c.ln_eps);
  return s.h;
}
constexpr std::uint64_t config_signature(const bert_config& c) {
  detail::signature_builder s;
  s.add(std::uint64_t{2}).add(std::uint64_t(c.vocab)).add(std::uint64_t(c.context)).add(std::uint64_t(c.d_model))
      .add(std::uint64_t(c.heads)).add(std::uint64_t(c.d_ff)).add(std::uint64_t(c.layers))
      .add(std::uint64_t(c.type_vocab)).add(c.norm).add(c.act).add(c.pos).add(c.tied_head).add(c.dropout)
      .add(c.ln_eps);
  return s.h;
}
constexpr std::uint64_t config_signature(const seq2seq_config& c) {
  detail::signature_builder s;
  s.add(std::uint64_t{3}).add(std::uint64_t(c.src_vocab)).add(std::uint64_t(c.tgt_vocab))
      .add(std::uint64_t(c.src_context)).add(std::uint64_t(c.tgt_context)).add(std::uint64_t(c.d_model))
      .add(std::uint64_t(c.heads)).add(std::uint64_t(c.d_ff)).add(std::uint64_t(c.enc_layers))
      .add(std::uint64_t(c.dec_layers)).add(c.norm).add(c.act).add(c.pos).add(c.tied_head).add(c.dropout)
      .add(c.ln_eps);
  return s.h;
}

inline std::string describe(const gpt_config& c) {
  return fmt::format("gpt_config{{vocab={}, context={}, d_model={}, heads={}, d_ff={}, layers={}, norm={}, act={}, "
                     "pos={}, tied_head={}, dropout={}, ln_eps={}, init={}, init_std={}}}",
                     c.vocab, c.context, c.d_model, c.heads, c.d_ff, c.layers, to_string(c.norm), to_string(c.act),
                     to_string(c.pos), c.tied_head, c.dropout, c.ln_eps, to_string(c.init), c.init_std);
}
inline std::string describe(const bert_config& c) {
  return fmt::format("bert_config{{vocab={}, context={}, d_model={}, heads={}, d_ff={}, layers={}, type_vocab={}, "
                     "norm={}, act={}, pos={}, tied_head={}, dropout={}, ln_eps={}, init={}, init_std={}}}",
                     c.vocab, c.context, c.d_model, c.heads, c.d_ff, c.layers, c.type_vocab, to_string(c.norm),
                     to_string(c.act), to_string(c.pos), c.tied_head, c.dropout, c.ln_eps, to_string(c.init),
                     c.init_std);
}
inline std::string describe(const seq2seq_config& c) {
  return fmt::format("seq2seq_config{{src_vocab={}, tgt_vocab={}, src_context={}, tgt_context={}, d_model={}, "
                     "heads={}, d_ff={}, enc_layers={}, dec_layers={}, norm={}, act={}, pos={}, tied_head={}, "
                     "dropout={}, ln_eps={}, init={}, init_std={}}}",
                     c.src_vocab, c.tgt_vocab, c.src_context, c.tgt_context, c.d_model, c.heads, c.d_ff,
                     c.enc_layers, c.dec_layers, to_string(c.norm), to_string(c.act), to_string(c.pos), c.tied_head,
                     c.dropout, c.ln_eps, to_string(c.init), c.init_std);
}

template <class T>
constexpr const char* scalar_name() {
  return sizeof(T) == 8 ? "double" : "float";
}

}  // namespace ctformer
