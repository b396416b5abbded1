// SentencePiece tokenizer: loads .model files (Unigram or BPE) and encodes exactly as spm_encode
// 0.1.97: normalize, segment (Unigram: Viterbi over piece log-probabilities, unknown characters
// scored min_score - 10; BPE: greedy best-score merges, leftmost first), then byte fallback or
// merging of unknown runs. Also n-best lists (A* over the lattice), subword sampling with a
// caller-seeded std::mt19937 (with libstdc++ the draws equal spm_encode --random_seed), decoding.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../../error.hpp"
#include "double_array.hpp"
#include "sentencepiece_model.hpp"
#include "sentencepiece_normalizer.hpp"
#include "tokenizer.hpp"

namespace ctformer {

namespace spm {

/// A piece found in the normalized text: bytes [begin, end) and its id.
struct segment {
  /// Byte offsets [begin, end) in the normalized text.
  std::uint32_t begin, end;  ///< end byte offset (exclusive)
  std::int32_t id;  ///< the piece's id
};

inline float log_sum_exp(float x, float y, bool init) {
  if (init) return y;
  const float lo = std::min(x, y), hi = std::max(x, y);
  if (hi > lo + 50.f) return hi;
  return float(hi + std::log(std::exp(double(lo - hi)) + 1.0));
}

/// The segmentation lattice of one normalized sentence, laid out as SentencePiece's: node 0 is BOS,
/// node 1 is EOS, then pieces in insertion order (by start character, then length, then the
/// unknown node). The orders matter: they decide ties and the order of sums in float.
class lattice {
 public:
  /// One node: a piece at a character position, with its Viterbi state.
  struct node {
    std::int32_t id;  ///< piece id (-1 for BOS and EOS)
    /// Start and length, in characters.
    std::uint32_t pos, length;  ///< in characters
    /// Piece score.
    float score = 0.f, backtrace = 0.f;  ///< Viterbi: score of the best path ending with this node
    std::int32_t prev = -1;  ///< previous node on the best path (-1: none)
  };

  /// Starts a lattice over sentence s (which must outlive it): BOS and EOS only.
  void set_sentence(std::string_view s) {
    sentence_ = s;
    surface_.clear();
    for (std::size_t i = 0; i < s.size(); i += one_char_len(s.substr(i))) surface_.push_back(std::uint32_t(i));
    surface_.push_back(std::uint32_t(s.size()));
    const std::size_t len = size();
    for (std::size_t i = 0; i <= len; ++i) {
      if (i < begin_.size()) {
        begin_[i].clear();
        end_[i].clear();
      } else {
        begin_.emplace_back();
        end_.emplace_back();
      }
    }
    nodes_.clear();
    nodes_.push_back({-1, 0, 0});
    end_[0].push_back(0);
    nodes_.push_back({-1, std::uint32_t(len), 0});
    begin_[len].push_back(1);
  }

  std::size_t size() const noexcept { return surface_.size() - 1; }  ///< characters
  /// The sentence.
  std::string_view sentence() const noexcept { return sentence_; }
  /// Byte offset of character position pos (pos = size(): the sentence's length).
  std::uint32_t byte_at(std::size_t pos) const noexcept { return surface_[pos]; }
  /// All nodes: BOS, EOS, then the inserted pieces.
  const std::vector<node>& nodes() const noexcept { return nodes_; }
  /// Nodes that begin at character position pos.
  const std::vector<std::int32_t>& begin_nodes(std::size_t pos) const { return begin_[pos]; }
  /// Nodes that end at character position pos.
  const std::vector<std::int32_t>& end_nodes(std::size_t pos) const { return end_[pos]; }
  /// The text of node n.
  std::string_view piece(const node& n) const {
    return sentence_.substr(surface_[n.pos], surface_[n.pos + n.length] - surface_[n.pos]);
  }

  /// Adds a piece of length characters at pos with id and score; returns its node index.
  std::int32_t insert(std::uint32_t pos, std::uint32_t length, std::int32_t id, float score) {
    const auto k = std::int32_t(nodes_.size());
    nodes_.push_back({id, pos, length, score});
    begin_[pos].push_back(k);
    end_[pos + length].push_back(k);
    return k;
  }

  /// The best path (node indices, BOS and EOS excluded) and its score.
  std::pair<std::vector<std::int32_t>, float> viterbi() {
    const std::size_t len = size();
    for (std::size_t pos = 0; pos <= len; ++pos) {
      for (std::int32_t r : begin_[pos]) {
        float best = 0.f;
        std::int32_t best_node = -1;
        for (std::int32_t l : end_[pos]) {
          const float s = nodes_[l].backtrace + nodes_[r].score;
          if (best_node < 0 || s > best) {
            best_node = l;
            best = s;
          }
        }
        nodes_[r].prev = best_node;
        nodes_[r].backtrace = best;
      }
    }
    std::vector<std::int32_t> path;
    for (std::int32_t k = nodes_[1].prev; nodes_[k].prev >= 0; k = nodes_[k].prev) path.push_back(k);
    std::reverse(path.begin(), path.end());
    return {path, nodes_[1].backtrace};
  }

  /// Forward log-marginals per node (piece scores times theta), in SentencePiece's summation order.
  std::vector<float> forward(float theta) const {
    std::vector<float> alpha(nodes_.size(), 0.f);
    for (std::size_t pos = 0; pos <= size(); ++pos)
      for (std::int32_t r : begin_[pos])
        for (std::int32_t l : end_[pos])
          alpha[r] = log_sum_exp(alpha[r], theta * nodes_[l].score + alpha[l], l == end_[pos][0]);
    return alpha;
  }

  /// Backward log-marginals per node, in SentencePiece's summation order.
  std::vector<float> backward() const {
    std::vector<float> beta(nodes_.size(), 0.f);
    for (std::size_t pos = size() + 1; pos-- > 0;)
      for (std::int32_t l : end_[pos])
        for (std::int32_t r : begin_[pos])
          beta[l] = log_sum_exp(beta[l], nodes_[r].score + beta[r], r == begin_[pos][0]);
    return beta;
  }

  /// Adds freq * P(node) to expected[id] for every piece node; returns freq * log Z.
  float populate_marginal(float freq, std::vector<float>& expected) const {
    const auto alpha = forward(1.f), beta = backward();
    const float z = alpha[1];
    for (std::size_t pos = 0; pos < size(); ++pos)
      for (std::int32_t k : begin_[pos]) {
        const node& n = nodes_[k];
        if (n.id >= 0) expected[n.id] += float(freq * std::exp(double(alpha[k] + n.score + beta[k] - z)));
      }
    return freq * z;
  }

  /// The n best paths by A* from EOS, with their scores (SentencePiece's agenda, shrunk the same
  /// way when it passes 10,000 entries).
  std::vector<std::pair<std::vector<std::int32_t>, float>> nbest(std::size_t n) {
    std::vector<std::pair<std::vector<std::int32_t>, float>> results;
    if (n == 0) return results;
    if (n == 1) {
      results.push_back(viterbi());
      return results;
    }
    struct hyp {
      std::int32_t node, next;
      float fx, gx;
    };
    std::vector<hyp> pool;
    struct by_fx {
      const std::vector<hyp>* pool;
      bool operator()(std::int32_t a, std::int32_t b) const { return (*pool)[a].fx < (*pool)[b].fx; }
    };
    using agenda_t = std::priority_queue<std::int32_t, std::vector<std::int32_t>, by_fx>;
    const by_fx cmp{&pool};
    agenda_t agenda(cmp);
    viterbi();
    pool.push_back({1, -1, nodes_[1].backtrace, 0.f});
    agenda.push(0);
    while (!agenda.empty()) {
      const std::int32_t top = agenda.top();
      agenda.pop();
      const hyp h = pool[top];
      if (h.node == 0) {
        std::vector<std::int32_t> path;
        for (std::int32_t k = h.next; pool[k].next >= 0; k = pool[k].next) path.push_back(pool[k].node);
        results.emplace_back(std::move(path), h.fx);
        if (results.size() == n) break;
        continue;
      }
      for (std::int32_t l : end_[nodes_[h.node].pos]) {
        pool.push_back({l, top, nodes_[l].backtrace + h.gx, nodes_[l].score + h.gx});
        agenda.push(std::int32_t(pool.size() - 1));
      }
      if (agenda.size() >= 10000) {
        agenda_t kept(cmp);
        const std::size_t keep = std::min<std::size_t>(512, n * 10);
        for (std::size_t i = 0; i < keep; ++i) {
          kept.push(agenda.top());
          agenda.pop();
        }
        agenda = std::move(kept);
      }
    }
    return results;
  }

  /// One path drawn with probability proportional to exp(theta * score), backwards from EOS.
  std::vector<std::int32_t> sample(float theta, std::mt19937& rng) const {
    if (size() == 0) return {};
    const auto alpha = forward(theta);
    std::vector<std::int32_t> path;
    std::vector<float> probs;
    float z = alpha[1];
    std::int32_t k = 1;
    for (;;) {
      probs.clear();
      for (std::int32_t l : end_[nodes_[k].pos])
        probs.push_back(float(std::exp(double(alpha[l] + theta * nodes_[l].score - z))));
      std::discrete_distribution<int> dist(probs.begin(), probs.end());
      k = end_[nodes_[k].pos][dist(rng)];
      if (k == 0) break;
      z = alpha[k];
      path.push_back(k);
    }
    std::reverse(path.begin(), path.end());
    return path;
  }

 private:
  std::string_view sentence_;
  std::vector<std::uint32_t> surface_;
  std::vector<node> nodes_;
  std::vector<std::vector<std::int32_t>> begin_, end_;
};

/// Hash of std::string_view, so that a map keyed by std::string can be searched without a copy.
struct string_hash {
  using is_transparent = void;  ///< enables heterogeneous lookup
  /// Hash of s.
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using piece_map = std::unordered_map<std::string, std::int32_t, string_hash, std::equal_to<>>;

}  // namespace spm

/// A SentencePiece model, ready to encode and decode. Thread-safe for concurrent const use.
class sentencepiece_tokenizer final : public tokenizer {
 public:
  /// A model parsed and validated (UNIGRAM or BPE only); where names it in error messages.
  explicit sentencepiece_tokenizer(spm::model_proto model, std::string_view where = "<memory>")
      : model_(std::move(model)) {
    spm::validate(model_, where);
    if (model_.trainer.type != spm::model_type::unigram && model_.trainer.type != spm::model_type::bpe)
      fail("sentencepiece model '{}': model type {} is not supported (only UNIGRAM and BPE)", where,
           spm::to_string(model_.trainer.type));
    init(where);
  }

  /// Loads a .model file.
  static sentencepiece_tokenizer load(const std::filesystem::path& path) {
    return sentencepiece_tokenizer(spm::load_model(path), path.string());
  }
  /// Parses a serialized ModelProto; where names it in error messages.
  static sentencepiece_tokenizer from_serialized(std::string_view bytes, std::string_view where = "<memory>") {
    return sentencepiece_tokenizer(spm::parse_model(bytes, where), where);
  }

  // ---- the shared tokenizer interface ----
  std::vector<std::int32_t> encode(std::string_view text) const override {
    /// Scratch buffers per thread: encoding line after line then allocates only the result.
    thread_local std::string norm;
    thread_local std::vector<spm::segment> segs;
    normalizer_.normalize(text, norm);
    if (model_.trainer.type == spm::model_type::bpe) segs = bpe_segment(norm, 0.f, nullptr);
    else unigram_segment(norm, segs);
    return to_ids(norm, segs);
  }

  /// spm_decode: pieces joined, U+2581 back to spaces, the dummy prefix dropped, control pieces
  /// invisible (shown as their text when keep_specials), `<unk>` as unk_surface, runs of byte pieces
  /// decoded as UTF-8 with U+FFFD for each invalid byte. An id outside the vocabulary is an error.
  std::string decode(std::span<const std::int32_t> ids, bool keep_specials = false) const override {
    std::string text, bytes;
    const auto flush_bytes = [&] {
      for (std::size_t i = 0; i < bytes.size();) {
        std::size_t pos = i;
        char32_t cp;
        if (utf8::decode_next(bytes, pos, cp)) {
          text.append(bytes, i, pos - i);
          i = pos;
        } else {
          text += "\xEF\xBF\xBD";
          ++i;
        }
      }
      bytes.clear();
    };
    /// The dummy prefix: while nothing is written yet, a leading U+2581 is dropped; when extra
    /// whitespace was not removed at encoding, only the first one (the others were real spaces).
    bool at_start = true, dropped = false;
    std::size_t shown_specials = 0;  ///< bytes of control pieces written (keep_specials), not text
    const bool squeeze = model_.normalizer.remove_extra_whitespaces;
    const bool strip = model_.normalizer.add_dummy_prefix || squeeze;
    for (std::int32_t raw : ids) {
      if (raw < 0 || std::size_t(raw) >= model_.pieces.size())
        fail("sentencepiece decode: id {} is outside the vocabulary (size {})", raw, model_.pieces.size());
      const std::string& piece = model_.pieces[raw].piece;
      const std::int32_t id = piece_to_id(piece);  ///< as spm: ids become pieces, pieces become ids
      const spm::piece_type t = model_.pieces[id].type;
      if (t == spm::piece_type::byte) {
        bytes.push_back(char(spm::byte_of_piece(piece)));
        continue;
      }
      flush_bytes();
      if (dropped || text.size() > shown_specials) at_start = false;
      dropped = false;
      if (t == spm::piece_type::control) {
        if (keep_specials) {
          text += piece;
          shown_specials += piece.size();
        }
        continue;
      }
      if (t == spm::piece_type::unknown) {
        text += model_.pieces[id].piece == piece ? model_.trainer.unk_surface : piece;
        continue;
      }
      std::string_view p = piece;
      if (at_start && strip && p.substr(0, spm::space_symbol.size()) == spm::space_symbol) {
        p.remove_prefix(spm::space_symbol.size());
        dropped = !squeeze;
      }
      for (std::size_t i = 0; i < p.size();) {
        if (p.substr(i, spm::space_symbol.size()) == spm::space_symbol) {
          text.push_back(' ');
          i += spm::space_symbol.size();
        } else {
          text.push_back(p[i++]);
        }
      }
    }
    flush_bytes();
    if (denormalizer_) return denormalizer_->normalize(text);
    return text;
  }

  std::size_t vocab_size() const override { return model_.pieces.size(); }
  const special_tokens& specials() const override { return specials_; }
  std::string id_to_token(std::int32_t id) const override {
    if (id < 0 || std::size_t(id) >= model_.pieces.size())
      fail("sentencepiece: id {} is outside the vocabulary (size {})", id, model_.pieces.size());
    return model_.pieces[id].piece;
  }
  std::optional<std::int32_t> token_to_id(std::string_view token) const override {
    if (auto it = reserved_.find(token); it != reserved_.end()) return it->second;
    if (auto it = pieces_.find(token); it != pieces_.end()) return it->second;
    return std::nullopt;
  }

  // ---- SentencePiece specifics ----
  /// The parsed model.
  const spm::model_proto& model() const noexcept { return model_; }
  /// UNIGRAM or BPE.
  spm::model_type type() const noexcept { return model_.trainer.type; }
  /// Score of piece id.
  float score(std::int32_t id) const { return model_.pieces.at(id).score; }
  /// Type of piece id.
  spm::piece_type piece_type(std::int32_t id) const { return model_.pieces.at(id).type; }
  /// Id of the unknown piece.
  std::int32_t unk_id() const noexcept { return unk_id_; }

  /// The normalized text the model segments (spaces written as U+2581).
  std::string normalize(std::string_view text) const { return normalizer_.normalize(text); }

  /// spm_encode --output_format=piece.
  std::vector<std::string> encode_pieces(std::string_view text) const {
    std::vector<std::string> out;
    for (std::int32_t id : encode(text)) out.push_back(model_.pieces[id].piece);
    return out;
  }

  /// spm_encode --output_format=nbest_id: up to n segmentations, best first (Unigram only).
  std::vector<std::vector<std::int32_t>> nbest(std::string_view text, int n) const {
    require_unigram("nbest");
    const std::string norm = normalizer_.normalize(text);
    std::vector<std::vector<std::int32_t>> out;
    for (auto& [segs, score] : nbest_segments(norm, n)) out.push_back(to_ids(norm, segs));
    return out;
  }

  /// Subword regularization, as spm_encode --output_format=sample_id: for Unigram, nbest_size < 0
  /// samples from the whole lattice with probabilities proportional to exp(alpha * score);
  /// nbest_size 0 or 1 is plain Viterbi; nbest_size > 1 draws one of the n best with weight
  /// exp(alpha * score). For BPE, alpha is the BPE-dropout probability of skipping each merge.
  /// The caller owns and seeds rng (std::mt19937 rng(seed)); one generator shared across calls gives
  /// the same sequence as spm_encode --random_seed=seed over the same lines, with libstdc++.
  std::vector<std::int32_t> sample(std::string_view text, std::mt19937& rng, int nbest_size = -1,
                                   float alpha = 0.1f) const {
    const std::string norm = normalizer_.normalize(text);
    if (model_.trainer.type == spm::model_type::bpe) return to_ids(norm, bpe_segment(norm, alpha, &rng));
    if (nbest_size > 512) fail("sentencepiece sample: nbest_size must be <= 512, got {}", nbest_size);
    if (nbest_size < 0) {
      if (norm.empty()) return {};
      spm::lattice lat;
      populate(lat, norm);
      std::vector<spm::segment> segs;
      for (std::int32_t k : lat.sample(alpha, rng)) segs.push_back(to_segment(lat, k));
      return to_ids(norm, segs);
    }
    if (nbest_size <= 1) return to_ids(norm, segment(norm));
    const auto list = nbest_segments(norm, nbest_size);
    std::vector<float> probs;
    for (const auto& [segs, s] : list) probs.push_back(std::exp(alpha * s));
    std::discrete_distribution<int> dist(probs.begin(), probs.end());
    return to_ids(norm, list[dist(rng)].first);
  }

  /// The segmentation of already normalized text, before unknown merging and byte fallback.
  std::vector<spm::segment> segment(std::string_view normalized) const {
    if (model_.trainer.type == spm::model_type::bpe) return bpe_segment(normalized, 0.f, nullptr);
    std::vector<spm::segment> out;
    unigram_segment(normalized, out);
    return out;
  }

  /// The model as a serialized ModelProto.
  std::string serialize() const { return spm::serialize_model(model_); }
  /// Writes the .model file to path.
  void save(const std::filesystem::path& path) const { spm::save_model(model_, path); }

 private:
  void init(std::string_view where) {
    const auto& pieces = model_.pieces;
    std::vector<std::string> user_defined;
    min_score_ = FLT_MAX;
    max_score_ = FLT_MIN;  // as SentencePiece: the floor is the smallest positive float, not -inf
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      const auto& p = pieces[i];
      const bool normal = p.type == spm::piece_type::normal || p.type == spm::piece_type::user_defined ||
                          p.type == spm::piece_type::unused;
      (normal ? pieces_ : reserved_).emplace(p.piece, std::int32_t(i));
      if (p.type == spm::piece_type::user_defined) user_defined.push_back(p.piece);
      if (p.type == spm::piece_type::unknown) unk_id_ = std::int32_t(i);
      if (p.type == spm::piece_type::normal) {
        min_score_ = std::min(min_score_, p.score);
        max_score_ = std::max(max_score_, p.score);
      }
      info_.push_back({p.score, p.type == spm::piece_type::user_defined ? piece_info::user_defined
                                : p.type == spm::piece_type::unused     ? piece_info::unused
                                                                        : piece_info::other});
    }
    for (int b = 0; b < 256 && model_.trainer.byte_fallback; ++b)
      byte_ids_[b] = reserved_.at(spm::piece_of_byte(static_cast<unsigned char>(b)));
    if (model_.trainer.type == spm::model_type::unigram) {
      std::vector<std::pair<std::string, std::uint32_t>> kv;
      for (const auto& [s, id] : pieces_) kv.emplace_back(s, std::uint32_t(id));
      std::sort(kv.begin(), kv.end());
      trie_ = detail::double_array::build(kv);
    }
    normalizer_ = spm::normalizer(model_.normalizer, model_.trainer.treat_whitespace_as_suffix, user_defined,
                                  fmt::format("sentencepiece model '{}': normalizer_spec.precompiled_charsmap", where));
    if (model_.denormalizer && !model_.denormalizer->precompiled_charsmap.empty())
      denormalizer_ = std::make_shared<spm::normalizer>(
          *model_.denormalizer, false, std::vector<std::string>{},
          fmt::format("sentencepiece model '{}': denormalizer_spec.precompiled_charsmap", where));
    if (!user_defined.empty()) {
      std::vector<std::pair<std::string, std::uint32_t>> kv;
      for (const auto& s : user_defined) kv.emplace_back(s, 0);
      std::sort(kv.begin(), kv.end());
      user_defined_ = detail::double_array::build(kv);
    }
    specials_.unk = unk_id_;
    const auto control = [&](std::string_view piece) -> std::int32_t {
      const auto id = token_to_id(piece);
      return id && (pieces[*id].type == spm::piece_type::control || pieces[*id].type == spm::piece_type::user_defined)
                 ? *id : -1;
    };
    specials_.bos = control(model_.trainer.bos_piece);
    specials_.eos = control(model_.trainer.eos_piece);
    specials_.pad = control(model_.trainer.pad_piece);
    for (auto [slot, a, b] : {std::tuple{&specials_.cls, "[CLS]", "<cls>"}, std::tuple{&specials_.sep, "[SEP]", "<sep>"},
                              std::tuple{&specials_.mask, "[MASK]", "<mask>"}})
      *slot = control(a) >= 0 ? control(a) : control(b);
  }

  std::int32_t piece_to_id(std::string_view piece) const {
    if (auto it = reserved_.find(piece); it != reserved_.end()) return it->second;
    if (auto it = pieces_.find(piece); it != pieces_.end()) return it->second;
    return unk_id_;
  }

  void require_unigram(std::string_view what) const {
    if (model_.trainer.type != spm::model_type::unigram)
      fail("sentencepiece {}: only Unigram models have a lattice (this model is {})", what, spm::to_string(model_.trainer.type));
  }

  float node_score(std::int32_t id, std::size_t length) const {
    // User-defined symbols get a bonus so that they are always chosen (length: bytes in the
    // optimized Viterbi, characters in the lattice, as in SentencePiece).
    return model_.pieces[id].type == spm::piece_type::user_defined ? float(double(float(length) * max_score_) - 0.1)
                                                                   : model_.pieces[id].score;
  }

  /// SentencePiece's optimized Viterbi: the best path ending at each byte, filled left to right.
  void unigram_segment(std::string_view s, std::vector<spm::segment>& out) const {
    struct best {
      float score = 0.f;
      std::int32_t start = -1, id = -1;
    };
    out.clear();
    if (s.empty()) return;
    const float unk_score = min_score_ - 10.f;
    thread_local std::vector<best> at;
    at.assign(s.size() + 1, best{});
    for (std::size_t start = 0; start < s.size();) {
      const std::size_t mblen = spm::one_char_len(s.substr(start));
      const float base = at[start].score;
      bool has_single = false;
      std::size_t node = 0, pos = start;
      std::int32_t val;
      while (pos < s.size() && trie_.step(node, static_cast<unsigned char>(s[pos]), val)) {
        ++pos;
        if (val < 0) continue;
        const piece_info info = info_[val];
        if (info.kind == piece_info::unused) continue;
        const std::size_t len = pos - start;
        /// In double, as SentencePiece's expression (float ? double : float) makes it; stored as float.
        const double cand = (info.kind == piece_info::user_defined ? double(float(len) * max_score_) - 0.1
                                                                    : double(info.score)) + double(base);
        best& b = at[pos];
        if (b.start < 0 || cand > double(b.score)) b = {float(cand), std::int32_t(start), val};
        if (len == mblen) has_single = true;
      }
      if (!has_single) {
        best& b = at[start + mblen];
        const float cand = unk_score + base;
        if (b.start < 0 || cand > b.score) b = {cand, std::int32_t(start), unk_id_};
      }
      start += mblen;
    }
    for (std::size_t end = s.size(); end > 0; end = std::size_t(at[end].start))
      out.push_back({std::uint32_t(at[end].start), std::uint32_t(end), at[end].id});
    std::reverse(out.begin(), out.end());
  }

  /// SentencePiece's lattice (PopulateNodes) for n-best and sampling.
  void populate(spm::lattice& lat, std::string_view s) const {
    lat.set_sentence(s);
    const float unk_score = min_score_ - 10.f;
    const std::size_t len = lat.size();
    for (std::size_t pos = 0; pos < len; ++pos) {
      const std::uint32_t begin = lat.byte_at(pos);
      bool has_single = false;
      std::size_t chars = pos;
      trie_.common_prefix_search(s.substr(begin), [&](std::size_t bytes, std::uint32_t id) {
        while (lat.byte_at(chars) < begin + bytes) ++chars;
        const auto length = std::uint32_t(chars - pos);
        if (model_.pieces[id].type == spm::piece_type::unused) return;
        lat.insert(std::uint32_t(pos), length, std::int32_t(id), node_score(std::int32_t(id), length));
        if (length == 1) has_single = true;
      });
      if (!has_single) lat.insert(std::uint32_t(pos), 1, unk_id_, unk_score);
    }
  }

  spm::segment to_segment(const spm::lattice& lat, std::int32_t k) const {
    const auto& n = lat.nodes()[k];
    return {lat.byte_at(n.pos), lat.byte_at(n.pos + n.length), n.id};
  }

  std::vector<std::pair<std::vector<spm::segment>, float>> nbest_segments(std::string_view norm, int n) const {
    std::vector<std::pair<std::vector<spm::segment>, float>> out;
    if (norm.empty()) {
      out.emplace_back();
      return out;
    }
    n = std::max(1, std::min(n, 1024));
    if (n == 1) {
      out.emplace_back(segment(norm), 0.f);
      return out;
    }
    spm::lattice lat;
    populate(lat, norm);
    for (auto& [path, score] : lat.nbest(std::size_t(n))) {
      std::vector<spm::segment> segs;
      for (std::int32_t k : path) segs.push_back(to_segment(lat, k));
      out.emplace_back(std::move(segs), score);
    }
    return out;
  }

  /// SentencePiece BPE: start from characters (user-defined symbols stay whole and never merge),
  /// repeatedly merge the adjacent pair whose merged piece has the best score, leftmost on ties.
  std::vector<spm::segment> bpe_segment(std::string_view s, float dropout, std::mt19937* rng) const {
    struct symbol {
      std::int32_t prev, next;
      bool freeze;
      std::uint32_t begin, size;
    };
    struct pair_ {
      std::int32_t left, right;
      float score;
      std::uint32_t size;
    };
    std::vector<symbol> sym;
    std::vector<spm::segment> out;
    if (s.empty()) return out;
    for (std::uint32_t i = 0; i < s.size();) {
      std::size_t len = 0;
      if (!user_defined_.empty())
        user_defined_.common_prefix_search(s.substr(i), [&](std::size_t l, std::uint32_t) { len = std::max(len, l); });
      const bool freeze = len > 0;
      if (!freeze) len = spm::one_char_len(s.substr(i));
      const auto idx = std::int32_t(sym.size());
      sym.push_back({idx - 1, i + len < s.size() ? idx + 1 : -1, freeze, i, std::uint32_t(len)});
      i += std::uint32_t(len);
    }
    std::vector<pair_> pairs;
    const auto cmp = [&pairs](std::int32_t a, std::int32_t b) {
      return pairs[a].score < pairs[b].score || (pairs[a].score == pairs[b].score && pairs[a].left > pairs[b].left);
    };
    std::priority_queue<std::int32_t, std::vector<std::int32_t>, decltype(cmp)> agenda(cmp);
    std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> rev_merge;  ///< unused pieces
    const auto span_key = [](std::uint32_t b, std::uint32_t n) { return (std::uint64_t(b) << 32) | n; };
    const auto maybe_add = [&](std::int32_t l, std::int32_t r) {
      if (l < 0 || r < 0 || sym[l].freeze || sym[r].freeze) return;
      const std::string_view merged = s.substr(sym[l].begin, sym[l].size + sym[r].size);
      const auto it = pieces_.find(merged);
      if (it == pieces_.end()) return;
      pairs.push_back({l, r, model_.pieces[it->second].score, std::uint32_t(merged.size())});
      agenda.push(std::int32_t(pairs.size() - 1));
      if (model_.pieces[it->second].type == spm::piece_type::unused)
        rev_merge[span_key(sym[l].begin, std::uint32_t(merged.size()))] = {span_key(sym[l].begin, sym[l].size),
                                                                             span_key(sym[r].begin, sym[r].size)};
    };
    for (std::size_t i = 1; i < sym.size(); ++i) maybe_add(std::int32_t(i - 1), std::int32_t(i));
    std::uniform_real_distribution<> coin(0.0, 1.0);
    while (!agenda.empty()) {
      const pair_ top = pairs[agenda.top()];
      agenda.pop();
      symbol &l = sym[top.left], &r = sym[top.right];
      if (l.size == 0 || r.size == 0 || l.size + r.size != top.size) continue;  // stale
      if (dropout > 0.f && (dropout >= 1.f || coin(*rng) < dropout)) continue;
      l.size += r.size;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = top.left;
      r.size = 0;
      maybe_add(l.prev, top.left);
      maybe_add(top.left, l.next);
    }
    /// Unused pieces are split back into the two pieces they were merged from.
    std::function<void(std::uint64_t)> resegment = [&](std::uint64_t key) {
      const auto begin = std::uint32_t(key >> 32), size = std::uint32_t(key & 0xFFFFFFFFu);
      const std::int32_t id = piece_to_id(s.substr(begin, size));
      if (model_.pieces[id].type == spm::piece_type::unused) {
        if (const auto it = rev_merge.find(key); it != rev_merge.end()) {
          resegment(it->second.first);
          resegment(it->second.second);
          return;
        }
      }
      out.push_back({begin, begin + size, id});
    };
    for (std::int32_t i = 0; i >= 0; i = sym[i].next) resegment(span_key(sym[i].begin, sym[i].size));
    return out;
  }

  /// Segments to ids: a run of unknown pieces becomes one <unk>, or with byte fallback each
  /// unknown piece becomes its UTF-8 bytes.
  std::vector<std::int32_t> to_ids(std::string_view norm, const std::vector<spm::segment>& segs) const {
    std::vector<std::int32_t> ids;
    ids.reserve(segs.size());
    bool prev_unk = false;
    for (const auto& sg : segs) {
      const bool unk = model_.pieces[sg.id].type == spm::piece_type::unknown;
      if (unk && model_.trainer.byte_fallback) {
        for (std::uint32_t i = sg.begin; i < sg.end; ++i) ids.push_back(byte_ids_[static_cast<unsigned char>(norm[i])]);
      } else if (!(unk && prev_unk)) {
        ids.push_back(sg.id);
      }
      prev_unk = unk;
    }
    return ids;
  }

  /// What the Viterbi inner loop reads per piece, packed (model_.pieces holds strings).
  struct piece_info {
    enum : std::uint8_t { other, user_defined, unused };
    float score;
    std::uint8_t kind;
  };

  spm::model_proto model_;
  std::vector<piece_info> info_;
  spm::piece_map pieces_, reserved_;
  std::int32_t unk_id_ = 0;
  float min_score_ = 0.f, max_score_ = 0.f;
  std::int32_t byte_ids_[256] = {};
  detail::double_array trie_, user_defined_;
  spm::normalizer normalizer_;
  std::shared_ptr<const spm::normalizer> denormalizer_;
  special_tokens specials_;
};

/// The model behind the shared interface, for tools that pick a tokenizer at run time
/// (examples/tokenize --spm FILE.model).
inline std::unique_ptr<tokenizer> load_sentencepiece(const std::filesystem::path& model) {
  return std::make_unique<sentencepiece_tokenizer>(sentencepiece_tokenizer::load(model));
}

}  // namespace ctformer
