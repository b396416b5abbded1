// Trains a SentencePiece Unigram model (Kudo 2018): normalize, keep the characters covering
// character_coverage, seed with every valid substring seen twice or more (scored count x length),
// then alternate EM (forward-backward expectations; M-step digamma(count) - digamma(total), dropping
// pieces expected < 0.5 times) with pruning of the pieces whose loss costs least likelihood, down to
// 1.1 x vocab_size. The model_proto it returns loads in sentencepiece_tokenizer and in spm_encode.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../../error.hpp"
#include "../unicode/script_tables.hpp"
#include "../../base/utf8.hpp"
#include "sentencepiece.hpp"
#include "sentencepiece_nfkc.hpp"

namespace ctformer::spm {

/// Settings of the unigram trainer; names and defaults follow spm_train's.
struct unigram_trainer_options {
  std::int32_t vocab_size = 8000;  ///< size of the vocabulary, specials included
  std::string normalization = "nmt_nfkc";  ///< "nmt_nfkc" (charsmap built from the Unicode tables) or "identity"
  bool add_dummy_prefix = true;  ///< prepend U+2581 to each sentence
  bool remove_extra_whitespaces = true;  ///< drop leading and trailing whitespace and fold runs of it
  float character_coverage = 0.9995f;  ///< share of the corpus's characters the vocabulary covers
  std::int32_t max_piece_length = 16;       ///< characters
  std::int32_t seed_size = 1000000;         ///< seed pieces kept before EM
  float shrinking_factor = 0.75f;           ///< share of pieces kept by each pruning round
  std::int32_t num_sub_iterations = 2;      ///< EM iterations between prunings
  std::size_t max_sentence_length = 4192;   ///< bytes; longer lines are skipped, as spm_train does
  bool split_by_whitespace = true;          ///< pieces never span a space (U+2581 only at the start)
  bool split_by_unicode_script = true;      ///< pieces never mix scripts (Hiragana, Katakana count as Han)
  bool split_by_number = true;              ///< pieces never mix digits 0-9 and other characters
  bool split_digits = false;                ///< every digit is a piece of its own
  bool byte_fallback = false;               ///< add the 256 byte pieces <0x00>..<0xFF>
  bool hard_vocab_limit = true;             ///< fail when the corpus cannot fill vocab_size
  std::int32_t unk_id = 0;   ///< id of the unknown piece
  std::int32_t bos_id = 1;   ///< id of the bos piece (-1: none)
  std::int32_t eos_id = 2;   ///< id of the eos piece (-1: none)
  std::int32_t pad_id = -1;  ///< id of the pad piece (-1: none)
  /// Control pieces (no surface text).
  std::vector<std::string> control_symbols, user_defined_symbols;  ///< pieces always kept whole
  std::function<void(const std::string&)> log;  ///< progress messages, if set
};

namespace detail {

inline double digamma(double x) {
  double r = 0;
  for (; x < 7; ++x) r -= 1 / x;
  x -= 0.5;
  const double xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
  return r + std::log(x) + xx2 / 24 - 7 * xx4 / 960 + 31 * xx4 * xx2 / 8064 - 127 * xx4 * xx4 / 30720;
}

inline std::uint8_t script_of(char32_t c) {
  namespace t = unicode::tables;
  const auto* first = std::begin(t::script_runs);
  const auto* it = std::upper_bound(first, std::end(t::script_runs), (std::uint32_t(c) << 8) | 0xFF);
  auto s = static_cast<t::script>(it == first ? 0 : (it[-1] & 0xFF));
  // Japanese mixes these scripts within words: treat them as one.
  if (s == t::script::hiragana || s == t::script::katakana || c == 0x30FC) s = t::script::han;
  return static_cast<std::uint8_t>(s);
}

inline constexpr char32_t unk_char = 0x2585;  ///< stands for characters outside the kept alphabet
inline constexpr char32_t ws_char = 0x2581;

/// Sort order SentencePiece uses for scored lists: higher value first, then key.
template <class K, class V>
void sort_by_value(std::vector<std::pair<K, V>>& v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
}

class unigram_trainer {
 public:
  explicit unigram_trainer(const unigram_trainer_options& o) : opt_(o) {
    if (o.vocab_size <= 0) fail("unigram trainer: vocab_size must be positive, got {}", o.vocab_size);
    if (o.normalization != "nmt_nfkc" && o.normalization != "identity")
      fail("unigram trainer: normalization must be \"nmt_nfkc\" or \"identity\", got \"{}\"", o.normalization);
    if (!(o.character_coverage > 0.f && o.character_coverage <= 1.f))
      fail("unigram trainer: character_coverage must be in (0, 1], got {}", o.character_coverage);
    if (!(o.shrinking_factor > 0.f && o.shrinking_factor < 1.f))
      fail("unigram trainer: shrinking_factor must be in (0, 1), got {}", o.shrinking_factor);
    if (o.max_piece_length < 1) fail("unigram trainer: max_piece_length must be at least 1");
    spec_.name = o.normalization;
    if (o.normalization == "nmt_nfkc") spec_.precompiled_charsmap = nmt_nfkc_charsmap();
    spec_.add_dummy_prefix = o.add_dummy_prefix;
    spec_.remove_extra_whitespaces = o.remove_extra_whitespaces;
    init_meta();
  }

  model_proto train(const std::vector<std::string>& lines) {
    load(lines);
    make_seeds();
    if (opt_.split_by_whitespace) split_words();
    log("{} distinct words, {} seed pieces", sentences_.size(), pieces_.size());
    const std::size_t desired = std::size_t(opt_.vocab_size * 1.1);
    for (int round = 0;; ++round) {
      for (int it = 0; it < opt_.num_sub_iterations; ++it) {
        float objective = 0;
        const auto expected = e_step(objective);
        m_step(expected);
        log("EM round {} iteration {}: {} pieces, objective {:.4f}", round, it, pieces_.size(), objective);
      }
      if (pieces_.size() <= desired) break;
      prune(desired);
    }
    return finish();
  }

 private:
  template <class... Args>
  void log(fmt::format_string<Args...> f, Args&&... args) {
    if (opt_.log) opt_.log(fmt::format(f, std::forward<Args>(args)...));
  }

  void init_meta() {
    const auto put = [&](std::int32_t id, std::string piece, piece_type t) {
      if (id < 0) return;
      if (id >= opt_.vocab_size) fail("unigram trainer: special id {} is outside vocab_size {}", id, opt_.vocab_size);
      if (meta_.count(id)) fail("unigram trainer: id {} is used by two special pieces", id);
      meta_[id] = {std::move(piece), t};
    };
    if (opt_.unk_id < 0) fail("unigram trainer: unk_id must be set (got {})", opt_.unk_id);
    put(opt_.unk_id, "<unk>", piece_type::unknown);
    put(opt_.bos_id, "<s>", piece_type::control);
    put(opt_.eos_id, "</s>", piece_type::control);
    put(opt_.pad_id, "<pad>", piece_type::control);
    std::int32_t next = 0;
    const auto append = [&](const std::string& piece, piece_type t) {
      for (const auto& [id, m] : meta_)
        if (m.first == piece) fail("unigram trainer: piece '{}' is defined twice", piece);
      while (meta_.count(next)) ++next;
      put(next, piece, t);
    };
    for (const auto& s : opt_.control_symbols) append(s, piece_type::control);
    for (const auto& s : opt_.user_defined_symbols) append(s, piece_type::user_defined);
    if (opt_.byte_fallback)
      for (int b = 0; b < 256; ++b) append(piece_of_byte(static_cast<unsigned char>(b)), piece_type::byte);
  }

  void load(const std::vector<std::string>& lines) {
    normalizer norm(spec_, false);
    std::vector<std::string> meta_strings;
    for (const auto& [id, m] : meta_)
      if (m.second != piece_type::byte) meta_strings.push_back(m.first);
    std::sort(meta_strings.begin(), meta_strings.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
    std::unordered_map<std::string, std::int64_t> counts;
    std::size_t skipped = 0;
    for (std::string line : lines) {
      if (line.size() > opt_.max_sentence_length || line.find("\xE2\x96\x85") != std::string::npos) {
        ++skipped;
        continue;
      }
      // Special pieces in the text are not material for other pieces.
      for (const auto& m : meta_strings) {
        if (line.find(m) == std::string::npos) continue;
        std::string out;
        std::size_t pos = 0;
        for (std::size_t at; (at = line.find(m, pos)) != std::string::npos; pos = at + m.size()) {
          out.append(line, pos, at - pos);
          out.push_back(' ');
        }
        out.append(line, pos, std::string::npos);
        line.swap(out);
      }
      std::string n = norm.normalize(line);
      if (!n.empty()) ++counts[std::move(n)];
    }
    if (counts.empty()) fail("unigram trainer: the corpus is empty (no line left after normalization)");
    sentences_.assign(counts.begin(), counts.end());
    std::sort(sentences_.begin(), sentences_.end());
    if (skipped) log("skipped {} lines longer than {} bytes or containing U+2585", skipped, opt_.max_sentence_length);

    /// The alphabet: most frequent characters up to character_coverage; the rest become U+2585.
    std::unordered_map<char32_t, std::int64_t> chars;
    std::int64_t all = 0;
    for (const auto& [s, f] : sentences_)
      for (char32_t c : utf8::decode(s, utf8::on_invalid::replace)) {
        chars[c] += f;  // U+2581 included: the space is a character of the alphabet
        all += f;
      }
    std::vector<std::pair<char32_t, std::int64_t>> sorted(chars.begin(), chars.end());
    sort_by_value(sorted);
    std::int64_t covered = 0;
    for (const auto& [c, f] : sorted) {
      if (double(covered) / double(all) >= opt_.character_coverage) break;
      covered += f;
      required_.emplace_back(c, f);
    }
    const std::size_t n_meta = meta_.size();
    if (required_.size() + n_meta >= std::size_t(opt_.vocab_size))
      fail("unigram trainer: vocab_size {} is too small for {} required characters and {} special pieces", opt_.vocab_size,
           required_.size(), n_meta);
    std::unordered_map<char32_t, bool> keep;
    for (const auto& [c, f] : required_) keep[c] = true;
    for (auto& [s, f] : sentences_) {
      std::u32string u = utf8::decode(s, utf8::on_invalid::replace);
      bool changed = false;
      for (char32_t& c : u)
        if (!keep.count(c)) {
          c = unk_char;
          changed = true;
        }
      if (changed) s = utf8::encode(u);
    }
    log("{} lines, {} distinct, alphabet of {} characters", lines.size() - skipped, sentences_.size(), required_.size());
  }

  /// Whether chars[b, e) may be a piece: no U+2585, U+2581 only first, one script, digits apart.
  bool valid_piece(const std::u32string& w, std::size_t b, std::size_t e) const {
    if (e - b > std::size_t(opt_.max_piece_length)) return false;
    int prev = -1;
    for (std::size_t i = b; i < e; ++i) {
      const char32_t c = w[i];
      if (c == unk_char || c == 0 || c == U' ') return false;
      if (c == ws_char) {
        if (opt_.split_by_whitespace ? i > b : (i > b && i + 1 == e)) return false;
        continue;
      }
      const bool digit = c >= U'0' && c <= U'9';
      if (digit && opt_.split_digits && e - b > 1) return false;
      int cls = script_of(c);
      if (digit) cls = opt_.split_by_number ? 256 : -1;  // its own class, or one that matches any
      if (cls < 0) continue;
      if (opt_.split_by_unicode_script && prev >= 0 && prev != cls) return false;
      prev = cls;
    }
    return true;
  }

  void make_seeds() {
    std::unordered_map<std::u32string, std::int64_t> freq;
    std::unordered_map<char32_t, std::int64_t> all_chars;
    for (const auto& [s, f] : sentences_) {
      const std::u32string u = utf8::decode(s, utf8::on_invalid::replace);
      for (char32_t c : u)
        if (c != unk_char) all_chars[c] += f;
      // Substrings start at a space (or the start) when pieces may not span spaces: scan words.
      for (std::size_t b = 0; b < u.size(); ++b)
        for (std::size_t e = b + 2; e <= u.size() && valid_piece(u, b, e); ++e) freq[u.substr(b, e - b)] += f;
    }
    std::vector<std::pair<std::u32string, std::int64_t>> subs;
    for (auto& [w, f] : freq)
      if (f >= 2) subs.emplace_back(w, f * std::int64_t(w.size()));
    sort_by_value(subs);
    if (subs.size() > std::size_t(opt_.seed_size)) subs.resize(std::size_t(opt_.seed_size));
    std::vector<std::pair<std::u32string, std::int64_t>> chars;
    for (auto& [c, f] : all_chars) chars.emplace_back(std::u32string(1, c), f);
    sort_by_value(chars);
    std::vector<std::pair<std::string, float>> seeds;
    double sum = 0;
    for (auto* list : {&chars, &subs})
      for (auto& [w, f] : *list) {
        seeds.emplace_back(utf8::encode(w), float(f));
        sum += double(f);
      }
    const double logsum = std::log(sum);
    for (auto& [w, s] : seeds) s = float(std::log(double(s)) - logsum);
    set_pieces(std::move(seeds));
  }

  /// Words as the training sentences: each starts with U+2581 (the dummy prefix or a space).
  void split_words() {
    std::unordered_map<std::string, std::int64_t> words;
    for (const auto& [s, f] : sentences_) {
      std::size_t start = 0;
      for (std::size_t i = 0; i < s.size(); i += one_char_len(std::string_view(s).substr(i)))
        if (i > start && std::string_view(s).substr(i, 3) == space_symbol) {
          words[s.substr(start, i - start)] += f;
          start = i;
        }
      words[s.substr(start)] += f;
    }
    sentences_.assign(words.begin(), words.end());
    sort_by_value(sentences_);
  }

  void set_pieces(std::vector<std::pair<std::string, float>> p) {
    pieces_ = std::move(p);
    index_.clear();
    index_.reserve(pieces_.size());
    min_score_ = FLT_MAX;
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      index_.emplace(pieces_[i].first, std::int32_t(i));
      min_score_ = std::min(min_score_, pieces_[i].second);
    }
  }

  /// The lattice of s over the current pieces; characters without a piece get an unknown node
  /// (id -1) scored below every piece.
  void populate(lattice& lat, std::string_view s) const {
    lat.set_sentence(s);
    const std::size_t len = lat.size();
    for (std::size_t pos = 0; pos < len; ++pos) {
      bool single = false;
      const std::size_t stop = std::min(len, pos + std::size_t(opt_.max_piece_length));
      for (std::size_t e = pos + 1; e <= stop; ++e) {
        const auto it = index_.find(s.substr(lat.byte_at(pos), lat.byte_at(e) - lat.byte_at(pos)));
        if (it == index_.end()) continue;
        lat.insert(std::uint32_t(pos), std::uint32_t(e - pos), it->second, pieces_[it->second].second);
        single |= e == pos + 1;
      }
      if (!single) lat.insert(std::uint32_t(pos), 1, -1, min_score_ - 10.f);
    }
  }

  std::vector<float> e_step(float& objective) const {
    std::vector<float> expected(pieces_.size(), 0.f);
    std::int64_t total = 0;
    for (const auto& [s, f] : sentences_) total += f;
    lattice lat;
    objective = 0;
    for (const auto& [s, f] : sentences_) {
      populate(lat, s);
      const float z = lat.populate_marginal(float(f), expected);
      if (std::isnan(z)) fail("unigram trainer: the likelihood became NaN (a line may be too long)");
      objective -= z / float(total);
    }
    return expected;
  }

  void m_step(const std::vector<float>& expected) {
    std::vector<std::pair<std::string, float>> next;
    double sum = 0;
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      if (expected[i] < 0.5f) continue;  // expected less than half an occurrence: drop it
      next.emplace_back(pieces_[i].first, expected[i]);
      sum += expected[i];
    }
    const double logsum = digamma(sum);
    for (auto& [w, s] : next) s = float(digamma(s) - logsum);
    set_pieces(std::move(next));
  }

  /// Removes the pieces whose loss of corpus likelihood, when their occurrences are re-split into
  /// the second-best segmentation of the piece itself, is smallest.
  void prune(std::size_t desired) {
    const std::size_t n = pieces_.size();
    std::vector<char> keep_always(n, 1);
    std::vector<std::vector<std::int32_t>> alternatives(n);
    lattice lat;
    for (std::size_t i = 0; i < n; ++i) {
      populate(lat, pieces_[i].first);
      const auto best = lat.nbest(2);
      if (best.size() < 2) continue;
      if (best[0].first.size() >= 2) {
        keep_always[i] = 0;  // the piece is not even its own best segmentation
        continue;
      }
      bool has_unknown = false;
      for (std::int32_t k : best[1].first) {
        const std::int32_t id = lat.nodes()[k].id;
        has_unknown |= id < 0;
        alternatives[i].push_back(id);
      }
      if (has_unknown) alternatives[i].clear();
    }
    std::vector<double> freq(n, 0.0);
    std::vector<std::vector<std::int32_t>> inverted(n);
    double vsum = 0;
    for (std::size_t si = 0; si < sentences_.size(); ++si) {
      const auto& [s, f] = sentences_[si];
      populate(lat, s);
      vsum += double(f);
      for (std::int32_t k : lat.viterbi().first) {
        const std::int32_t id = lat.nodes()[k].id;
        if (id < 0) continue;
        freq[id] += double(f);
        inverted[id].push_back(std::int32_t(si));
      }
    }
    const double sum = std::accumulate(freq.begin(), freq.end(), 0.0), logsum = std::log(sum);
    std::vector<std::pair<std::string, float>> next;
    std::vector<std::pair<std::int32_t, double>> candidates;
    for (std::size_t i = 0; i < n; ++i) {
      if (freq[i] == 0 || !keep_always[i]) continue;
      if (alternatives[i].empty()) {
        next.push_back(pieces_[i]);
        continue;
      }
      double occurrences = 0;
      for (std::int32_t si : inverted[i]) occurrences += double(sentences_[si].second);
      occurrences /= vsum;
      const double logprob = std::log(freq[i]) - logsum;
      const double logsum_alt = std::log(sum + freq[i] * double(alternatives[i].size() - 1));
      double logprob_alt = 0;
      for (std::int32_t a : alternatives[i]) logprob_alt += std::log(freq[a] + freq[i]) - logsum_alt;
      candidates.emplace_back(std::int32_t(i), occurrences * (logprob - logprob_alt));
    }
    const std::size_t target = std::max(desired, std::size_t(opt_.shrinking_factor * double(n)));
    sort_by_value(candidates);
    for (const auto& [i, loss] : candidates) {
      if (next.size() >= target) break;
      next.push_back(pieces_[i]);
    }
    log("pruned {} -> {} pieces", n, next.size());
    set_pieces(std::move(next));
  }

  model_proto finish() {
    /// Every alphabet character is a piece; those EM dropped come back just below the lowest score.
    std::vector<std::pair<std::string, float>> final_pieces;
    std::unordered_map<std::string, float> have(pieces_.begin(), pieces_.end());
    std::unordered_map<std::string, bool> taken;
    float penalty = 0;
    for (const auto& [c, f] : required_) {
      const std::string s = utf8::encode(std::u32string(1, c));
      const auto it = have.find(s);
      if (it != have.end()) {
        final_pieces.emplace_back(s, it->second);
      } else {
        final_pieces.emplace_back(s, min_score_ + penalty);
        penalty += 0.0001f;
      }
      taken[s] = true;
    }
    const std::size_t room = std::size_t(opt_.vocab_size) - meta_.size();
    auto sorted = pieces_;
    sort_by_value(sorted);
    for (const auto& p : sorted) {
      if (final_pieces.size() >= room) break;
      if (!taken.count(p.first)) final_pieces.push_back(p);
    }
    sort_by_value(final_pieces);
    std::int32_t vocab = opt_.vocab_size;
    if (final_pieces.size() < room) {
      const std::size_t most = final_pieces.size() + meta_.size();
      if (opt_.hard_vocab_limit)
        fail("unigram trainer: the corpus yields at most {} pieces, fewer than vocab_size {} (use a smaller "
             "vocab_size or hard_vocab_limit = false)", most, opt_.vocab_size);
      vocab = std::int32_t(most);
    }
    model_proto m;
    std::size_t next = 0;
    for (std::int32_t id = 0; id < vocab; ++id) {
      if (const auto it = meta_.find(id); it != meta_.end()) {
        m.pieces.push_back({it->second.first, 0.f, it->second.second});
      } else if (next < final_pieces.size()) {
        m.pieces.push_back({final_pieces[next].first, final_pieces[next].second, piece_type::normal});
        ++next;
      }
    }
    trainer_spec& t = m.trainer;
    t.input = {"<ctformer>"};
    t.model_prefix = "ctformer";
    t.type = model_type::unigram;
    t.vocab_size = std::int32_t(m.pieces.size());
    t.character_coverage = opt_.character_coverage;
    t.seed_sentencepiece_size = opt_.seed_size;
    t.shrinking_factor = opt_.shrinking_factor;
    t.num_threads = 1;
    t.num_sub_iterations = opt_.num_sub_iterations;
    t.max_sentence_length = std::int32_t(opt_.max_sentence_length);
    t.max_sentencepiece_length = opt_.max_piece_length;
    t.split_by_unicode_script = opt_.split_by_unicode_script;
    t.split_by_number = opt_.split_by_number;
    t.split_by_whitespace = opt_.split_by_whitespace;
    t.split_digits = opt_.split_digits;
    t.control_symbols = opt_.control_symbols;
    t.user_defined_symbols = opt_.user_defined_symbols;
    t.byte_fallback = opt_.byte_fallback;
    t.hard_vocab_limit = opt_.hard_vocab_limit;
    t.unk_id = opt_.unk_id;
    t.bos_id = opt_.bos_id;
    t.eos_id = opt_.eos_id;
    t.pad_id = opt_.pad_id;
    m.normalizer = spec_;
    validate(m, "trained model");
    return m;
  }

  unigram_trainer_options opt_;
  normalizer_spec spec_;
  std::map<std::int32_t, std::pair<std::string, piece_type>> meta_;
  std::vector<std::pair<std::string, std::int64_t>> sentences_;
  std::vector<std::pair<char32_t, std::int64_t>> required_;
  std::vector<std::pair<std::string, float>> pieces_;
  std::unordered_map<std::string_view, std::int32_t> index_;
  float min_score_ = 0.f;
};

}  // namespace detail

/// Trains on lines of text (UTF-8; invalid bytes become U+FFFD as in normalization).
inline model_proto train_unigram(const std::vector<std::string>& lines, const unigram_trainer_options& options = {}) {
  return detail::unigram_trainer(options).train(lines);
}

/// Trains on a text file, one sentence per line.
inline model_proto train_unigram(const std::filesystem::path& corpus, const unigram_trainer_options& options = {}) {
  std::ifstream in(corpus, std::ios::binary);
  if (!in) fail("unigram trainer: cannot open corpus '{}'", corpus.string());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return train_unigram(lines, options);
}

}  // namespace ctformer::spm
