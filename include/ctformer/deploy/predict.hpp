// Predictions from text in one call, for one text or many: the tokenizer, the template, padding,
// batching, the forward in eval mode and reading the outputs are done here, so a caller never
// builds a workspace or knows where logits live.
//   text_classifier<Model>     encoder<cfg, classify<N>>: label and class probabilities
//   text_regressor<Model>      encoder<cfg, regress<>>: the predicted value
//   sentence_embedder<Model>   any encoder: the mean of the final hidden states over real tokens
//   text_generator<Model>      decoder_lm: a prompt string continued (KV cache, sampling options)
//   translator<Model>          seq2seq: a source string translated (greedy or beam search)
// Each object allocates its buffers once (B rows per forward, sequences of S tokens) and reuses
// them; many texts run B at a time, the last chunk padded. A text's outputs do not depend on the
// texts beside it beyond float rounding (a padded neighbour puts attention on its masked path).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../data/batch.hpp"
#include "../data/datasets.hpp"
#include "../data/encode.hpp"
#include "../data/tokenizers/tokenizer.hpp"
#include "../error.hpp"
#include "../models/encoder.hpp"
#include "generate.hpp"
#include "seq2seq_decode.hpp"

namespace ctformer {

/// A text_classifier's answer for one text.
struct class_prediction {
  std::int32_t label = 0;                ///< the most probable class (the lowest index on a tie)
  std::vector<double> probabilities;     ///< softmax of the logits, one per class
  std::vector<double> logits;            ///< the classifier's outputs, one per class
};

namespace detail {

/// The template a text model's inputs get by default: [CLS] text [SEP] when the tokenizer has both
/// (BERT), otherwise none.
inline encode_options default_encoding(const tokenizer& tok) {
  encode_options o;
  if (tok.specials().cls >= 0 && tok.specials().sep >= 0) o.tmpl = sequence_template::bert(tok.specials());
  return o;
}

/// Runs an encoder model over texts, B rows per forward in eval mode; after each forward,
/// read(ws, row, index) is called for every real row (index: the text's position in the input).
template <class Model, std::size_t B, std::size_t S>
class encoder_runner {
 public:
  using params = typename Model::params;
  using workspace = typename Model::template workspace<B, S>;
  using batch_type = typename workspace::batch_type;
  static_assert(B > 0, "ctformer: predictions need at least one row per forward");

  encoder_runner(const params& p, const tokenizer& tok, encode_options o)
      : p_(&p), tok_(&tok), o_(std::move(o)), ws_(std::make_unique<workspace>()), batch_(std::make_unique<batch_type>()) {}

  /// body_only: stop after the encoder's layers (embeddings need no head).
  template <class Read>
  void run(std::span<const std::string> texts, bool body_only, Read&& read) {
    for (std::size_t first = 0; first < texts.size(); first += B) {
      const std::size_t n = std::min(B, texts.size() - first);
      for (std::size_t r = 0; r < B; ++r) {
        /// Padding rows repeat the first text of the chunk; their outputs are never read.
        const auto e = encode_fixed<S>(*tok_, texts[first + (r < n ? r : 0)], o_);
        write_row(batch_->ids, batch_->attention_mask, batch_->token_type, r, e);
      }
      if (body_only)
        Model::forward_body(p_->body, *ws_, *batch_, run_mode::eval());
      else
        Model::forward(*p_, *ws_, *batch_, run_mode::eval());
      for (std::size_t r = 0; r < n; ++r) read(*ws_, *batch_, r, first + r);
    }
  }

 private:
  const params* p_;
  const tokenizer* tok_;
  encode_options o_;
  std::unique_ptr<workspace> ws_;
  std::unique_ptr<batch_type> batch_;
};

}  // namespace detail

/// Labels and class probabilities of texts, for an encoder<cfg, classify<N>>. The weights and the
/// tokenizer must outlive it.
template <class Model, std::size_t B = 8, std::size_t S = Model::Ctx>
class text_classifier {
 public:
  using params = typename Model::params;  ///< the encoder's weights
  static_assert(std::is_same_v<typename Model::head_type::template batch_type<1, 1>, classification_batch<1, 1>>,
                "ctformer: text_classifier needs an encoder with a classify<N> head");
  static constexpr std::size_t classes = Model::head_type::outputs;  ///< N of the classify<N> head

  /// Classifies with p and tok, encoding with the tokenizer's default options.
  text_classifier(const params& p, const tokenizer& tok) : run_(p, tok, detail::default_encoding(tok)) {}
  /// Classifies with p and tok, encoding with o.
  text_classifier(const params& p, const tokenizer& tok, encode_options o) : run_(p, tok, std::move(o)) {}

  /// The prediction for one text.
  class_prediction predict(std::string_view text) {
    const std::string one(text);
    return std::move(predict(std::span<const std::string>(&one, 1))[0]);
  }
  /// The predictions for texts, in order, run B at a time.
  std::vector<class_prediction> predict(std::span<const std::string> texts) {
    std::vector<class_prediction> out(texts.size());
    run_.run(texts, false, [&](const auto& ws, const auto&, std::size_t r, std::size_t i) {
      const auto* logits = ws.head_ws.logits.data() + r * classes;
      class_prediction& c = out[i];
      c.logits.assign(logits, logits + classes);
      c.probabilities.resize(classes);
      double m = double(logits[0]), sum = 0;
      for (std::size_t k = 1; k < classes; ++k) m = std::max(m, double(logits[k]));
      for (std::size_t k = 0; k < classes; ++k) sum += c.probabilities[k] = std::exp(double(logits[k]) - m);
      for (std::size_t k = 0; k < classes; ++k) {
        c.probabilities[k] /= sum;
        if (logits[k] > logits[std::size_t(c.label)]) c.label = std::int32_t(k);
      }
    });
    return out;
  }

 private:
  detail::encoder_runner<Model, B, S> run_;
};

/// Predicted values of texts, for an encoder<cfg, regress<>>.
template <class Model, std::size_t B = 8, std::size_t S = Model::Ctx>
class text_regressor {
 public:
  using params = typename Model::params;  ///< the encoder's weights
  static_assert(std::is_same_v<typename Model::head_type::template batch_type<1, 1>, regression_batch<1, 1>>,
                "ctformer: text_regressor needs an encoder with a regress<> head");

  /// Predicts with p and tok, encoding with the tokenizer's default options.
  text_regressor(const params& p, const tokenizer& tok) : run_(p, tok, detail::default_encoding(tok)) {}
  /// Predicts with p and tok, encoding with o.
  text_regressor(const params& p, const tokenizer& tok, encode_options o) : run_(p, tok, std::move(o)) {}

  /// The predicted value of one text.
  double predict(std::string_view text) {
    const std::string one(text);
    return predict(std::span<const std::string>(&one, 1))[0];
  }
  /// The predicted values of texts, in order, run B at a time.
  std::vector<double> predict(std::span<const std::string> texts) {
    std::vector<double> out(texts.size());
    run_.run(texts, false, [&](const auto& ws, const auto&, std::size_t r, std::size_t i) {
      out[i] = double(ws.head_ws.logits.data()[r]);
    });
    return out;
  }

 private:
  detail::encoder_runner<Model, B, S> run_;
};

/// Sentence embeddings from any encoder: the mean of the final hidden states over the text's real
/// tokens (specials included, padding not), optionally scaled to unit length.
template <class Model, std::size_t B = 8, std::size_t S = Model::Ctx>
class sentence_embedder {
 public:
  using params = typename Model::params;  ///< the encoder's weights
  static constexpr std::size_t dim = Model::C;  ///< embedding size: the model's d_model

  /// Embeds with p and tok, encoding with the tokenizer's default options; normalize: unit length.
  sentence_embedder(const params& p, const tokenizer& tok, bool normalize = false)
      : run_(p, tok, detail::default_encoding(tok)), normalize_(normalize) {}
  /// Embeds with p and tok, encoding with o; normalize: unit length.
  sentence_embedder(const params& p, const tokenizer& tok, encode_options o, bool normalize = false)
      : run_(p, tok, std::move(o)), normalize_(normalize) {}

  /// The embedding (dim floats) of one text.
  std::vector<float> embed(std::string_view text) {
    const std::string one(text);
    return std::move(embed(std::span<const std::string>(&one, 1))[0]);
  }
  /// The embeddings of texts, in order, run B at a time.
  std::vector<std::vector<float>> embed(std::span<const std::string> texts) {
    std::vector<std::vector<float>> out(texts.size());
    run_.run(texts, true, [&](const auto& ws, const auto& batch, std::size_t r, std::size_t i) {
      std::vector<double> acc(dim, 0.0);
      std::size_t n = 0;
      const auto* hidden = ws.final_hidden();
      for (std::size_t s = 0; s < S; ++s)
        if (batch.attention_mask(r, s)) {
          for (std::size_t c = 0; c < dim; ++c) acc[c] += double(hidden[(r * S + s) * dim + c]);
          ++n;
        }
      double norm = 0;
      for (auto& v : acc) {
        v /= double(std::max<std::size_t>(n, 1));
        norm += v * v;
      }
      const double scale = normalize_ && norm > 0 ? 1.0 / std::sqrt(norm) : 1.0;
      out[i].resize(dim);
      for (std::size_t c = 0; c < dim; ++c) out[i][c] = float(acc[c] * scale);
    });
    return out;
  }

 private:
  detail::encoder_runner<Model, B, S> run_;
  bool normalize_;
};

/// Prompt strings continued by a decoder_lm (deploy/generate.hpp: the KV cache, sampling, stop
/// tokens); returns the new text only. B prompts run at once; prompt i of a call samples with
/// rng(seed + i), so results do not depend on B. Ids past the tokenizer's vocabulary (a model
/// vocabulary padded to a round size) are never drawn.
template <class Model, std::size_t B = 1>
class text_generator {
 public:
  using params = typename Model::params;  ///< the decoder_lm's weights

  /// prepend_bos: start every prompt with the tokenizer's bos (GPT-2's <|endoftext|>), if it has one.
  text_generator(const params& p, const tokenizer& tok, bool prepend_bos = false)
      : p_(&p), tok_(&tok), bos_(prepend_bos ? tok.specials().bos : -1), gen_(std::make_unique<generator<Model, B>>()) {}

  /// The continuation of one prompt.
  std::string complete(std::string_view prompt, const generate_options& o = {}) {
    const std::string one(prompt);
    return std::move(complete(std::span<const std::string>(&one, 1), o)[0]);
  }
  /// The continuations of prompts, in order, run B at a time.
  std::vector<std::string> complete(std::span<const std::string> prompts, const generate_options& o = {}) {
    std::vector<std::string> out;
    out.reserve(prompts.size());
    std::vector<std::vector<std::int32_t>> ids;
    for (std::size_t first = 0; first < prompts.size(); first += B) {
      const std::size_t n = std::min(B, prompts.size() - first);
      ids.assign(n, {});
      for (std::size_t r = 0; r < n; ++r) {
        if (bos_ >= 0) ids[r].push_back(bos_);
        const auto t = tok_->encode(prompts[first + r]);
        ids[r].insert(ids[r].end(), t.begin(), t.end());
        if (ids[r].empty()) fail("text_generator: prompt {} is empty (no tokens to continue)", first + r);
      }
      generate_options chunk = o;
      chunk.sample.seed = o.sample.seed + first;  // prompt i samples with seed + i, whatever B is
      if (!chunk.sample.vocab_limit) chunk.sample.vocab_limit = std::min(tok_->vocab_size(), Model::V);
      for (auto& g : gen_->run(*p_, std::span<const std::vector<std::int32_t>>(ids), chunk))
        out.push_back(tok_->decode(g.tokens));
    }
    return out;
  }

 private:
  const params* p_;
  const tokenizer* tok_;
  std::int32_t bos_;
  std::unique_ptr<generator<Model, B>> gen_;
};

/// Source strings translated by a seq2seq model: the source tokenizer's ids (eos appended as in
/// training), greedy decoding (beam = 1) or beam search, the target tokenizer's text. K is the
/// scorer's row count: sources per greedy batch and the largest beam.
template <class Model, std::size_t K = 4>
class translator {
 public:
  using params = typename Model::params;  ///< the seq2seq model's weights

  /// Translates with p, the source and target tokenizers and the model's special ids sp.
  translator(const params& p, const tokenizer& source, const tokenizer& target, const seq2seq_specials& sp)
      : src_(&source), tgt_(&target), sp_(sp), sc_(std::make_unique<seq2seq_scorer<Model, K>>(p, sp)) {}

  /// beam 1: greedy; length_penalty: GNMT's alpha (beam search only).
  std::string translate(std::string_view text, std::size_t beam = 1, double length_penalty = 0.0) {
    const std::string one(text);
    return std::move(translate(std::span<const std::string>(&one, 1), beam, length_penalty)[0]);
  }
  /// The translations of texts, in order.
  std::vector<std::string> translate(std::span<const std::string> texts, std::size_t beam = 1,
                                     double length_penalty = 0.0) {
    if (beam == 0 || beam > K) fail("translator: beam {} must be between 1 and {}", beam, K);
    std::vector<std::string> out;
    out.reserve(texts.size());
    if (beam == 1) {
      decode_options o;
      o.eos = sp_.eos;
      std::vector<std::vector<std::int32_t>> chunk;
      for (std::size_t first = 0; first < texts.size(); first += K) {
        chunk.clear();
        for (std::size_t i = first; i < std::min(texts.size(), first + K); ++i) chunk.push_back(src_->encode(texts[i]));
        sc_->set_sources(chunk);
        for (auto& h : greedy_decode(*sc_, chunk.size(), o)) out.push_back(tgt_->decode(h.tokens));
      }
    } else {
      beam_options o;
      o.eos = sp_.eos;
      o.beam = beam;
      o.length_penalty = length_penalty;
      for (const auto& t : texts) {
        sc_->set_source(src_->encode(t));
        out.push_back(tgt_->decode(beam_search(*sc_, o)[0].tokens));
      }
    }
    return out;
  }

 private:
  const tokenizer* src_;
  const tokenizer* tgt_;
  seq2seq_specials sp_;
  std::unique_ptr<seq2seq_scorer<Model, K>> sc_;
};

}  // namespace ctformer
