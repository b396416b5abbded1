// Byte-level BPE compatible with GPT-2: loads and saves encoder.json + vocab.bpe, encodes exactly
// as GPT-2's encoder.py (its pre-tokenizer, then per piece: repeatedly take the lowest-ranked
// adjacent pair and merge all its occurrences left to right), decodes with U+FFFD repair, and
// trains new merges from a corpus. Speed: hand-written pre-tokenizer, merge ranks in a flat hash
// map keyed by id pairs, and a cache of piece encodings (used by one thread at a time).
#pragma once

#include <array>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <memory>
#include <mutex>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../error.hpp"
#include "../../io/json.hpp"
#include "../text_file.hpp"
#include "../../base/utf8.hpp"
#include "gpt2_pretokenize.hpp"
#include "hash.hpp"
#include "input_check.hpp"
#include "merge_trainer.hpp"
#include "special_names.hpp"
#include "tokenizer.hpp"

namespace ctformer {

namespace gpt2 {

/// GPT-2's reversible byte <-> printable code point map: printable Latin-1 bytes ('!'..'~',
/// U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves, the other 68 bytes take U+0100 onwards
/// in byte order. `byte_order` lists the bytes in that order (GPT-2's ids 0..255 follow it).
struct byte_map {
  std::array<char32_t, 256> to_cp{};  ///< byte -> code point
  /// The bytes in GPT-2's id order (printable first, then the other 68).
  std::array<std::uint8_t, 256> byte_order{};
  std::array<std::int16_t, 324> from_cp{};  ///< code point -> byte, -1 when unused
};

inline const byte_map& bytes_to_unicode() {
  static const byte_map m = [] {
    byte_map r;
    r.from_cp.fill(-1);
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    int k = 0, extra = 0;
    for (int b = 0; b < 256; ++b)
      if (printable(b)) r.byte_order[std::size_t(k++)] = std::uint8_t(b);
    for (int b = 0; b < 256; ++b)
      if (!printable(b)) r.byte_order[std::size_t(k++)] = std::uint8_t(b);
    for (int b = 0; b < 256; ++b) {
      r.to_cp[std::size_t(b)] = printable(b) ? char32_t(b) : char32_t(256 + extra++);
      r.from_cp[r.to_cp[std::size_t(b)]] = std::int16_t(b);
    }
    return r;
  }();
  return m;
}

/// Raw bytes -> the printable spelling used in encoder.json and vocab.bpe.
inline std::string bytes_to_token(std::string_view bytes) {
  const auto& m = bytes_to_unicode();
  std::string out;
  for (unsigned char b : bytes) utf8::append(out, m.to_cp[b]);
  return out;
}

/// The printable spelling -> raw bytes; fails naming `where` on a character outside the map.
inline std::string token_to_bytes(std::string_view token, std::string_view where) {
  const auto& m = bytes_to_unicode();
  std::string out;
  std::size_t pos = 0;
  char32_t cp;
  while (pos < token.size()) {
    const std::size_t at = pos;
    if (!utf8::decode_next(token, pos, cp)) fail("{}: invalid UTF-8 at byte offset {} of token", where, at);
    if (cp >= m.from_cp.size() || m.from_cp[cp] < 0)
      fail("{}: token \"{}\" has character U+{:04X}, which is not in GPT-2's byte map", where, token,
           static_cast<unsigned>(cp));
    out.push_back(char(m.from_cp[cp]));
  }
  return out;
}

}  // namespace gpt2


/// Settings of bpe_tokenizer::train.
struct bpe_train_options {
  std::size_t vocab_size = 1000;               ///< bytes (256) + merges + specials
  std::int64_t min_frequency = 2;              ///< a pair seen fewer times is never merged
  std::vector<std::string> specials = {"<|endoftext|>"};  ///< appended after the merges
  /// How the training corpus's invalid UTF-8 is treated: reject, or repair with U+FFFD.
  utf8::on_invalid on_invalid = utf8::on_invalid::reject;
};

/// GPT-2's byte-level BPE: pre-tokenization by GPT-2's pattern, merges by rank, specials matched whole.
class bpe_tokenizer : public tokenizer {
 public:
  /// Loads GPT-2's two files. Errors name the file and line (vocab.bpe) or token (encoder.json).
  static bpe_tokenizer from_files(const std::string& encoder_json, const std::string& vocab_bpe) {
    return from_strings(read_text_file(encoder_json), read_text_file(vocab_bpe), encoder_json, vocab_bpe);
  }
  /// dir/encoder.json and dir/vocab.bpe.
  static bpe_tokenizer from_dir(const std::string& dir) {
    return from_files(dir + "/encoder.json", dir + "/vocab.bpe");
  }
  /// Loads from the two files' contents; the names are used in error messages.
  static bpe_tokenizer from_strings(std::string_view encoder_json, std::string_view vocab_bpe,
                                    std::string_view encoder_name = "encoder.json",
                                    std::string_view merges_name = "vocab.bpe");

  /// Learns merges from a corpus (GPT-2 pre-tokenization, byte-level), until vocab_size tokens.
  /// Stops earlier when no pair occurs min_frequency times; vocab_size() then tells the size.
  static bpe_tokenizer train(std::string_view corpus, const bpe_train_options& options = {});

  /// The two files' contents in GPT-2's format, and writing them.
  std::string encoder_json() const;
  /// vocab.bpe's contents: the merges in rank order.
  std::string merges_text() const;
  /// Writes encoder.json and vocab.bpe.
  void save(const std::string& encoder_json_path, const std::string& vocab_bpe_path) const;

  std::vector<std::int32_t> encode(std::string_view text) const override {
    std::vector<std::int32_t> out;
    encode_into(text, out);
    return out;
  }
  /// Appends the ids of text to out (no specials).
  void encode_into(std::string_view text, std::vector<std::int32_t>& out) const;
  /// (Virtuals defined below the class are declared inline here: otherwise the first one would
  /// be the key function and every including file would emit the vtable and all virtuals.)
  inline std::string decode(std::span<const std::int32_t> ids, bool keep_specials = false) const override;
  /// Number of ids: bytes, merges and specials.
  std::size_t vocab_size() const override { return tokens_.size(); }
  /// Ids of the special tokens (-1 for absent kinds).
  const special_tokens& specials() const override { return specials_; }
  /// The encoder.json spelling (GPT-2's byte map), e.g. "Ġworld".
  inline std::string id_to_token(std::int32_t id) const override;
  /// The id of a token spelled as in encoder.json, or nothing.
  inline std::optional<std::int32_t> token_to_id(std::string_view token) const override;

  /// The raw bytes of a token.
  const std::string& token_bytes(std::int32_t id) const;
  /// True for the id of a special token.
  bool is_special(std::int32_t id) const { return id >= 0 && std::size_t(id) < special_.size() && special_[std::size_t(id)]; }
  /// Number of merges.
  std::size_t merge_count() const { return merges_.size(); }
  /// How encode() treats invalid UTF-8: reject, or repair with U+FFFD.
  void set_on_invalid(utf8::on_invalid mode) { on_invalid_ = mode; }
  /// Cache of piece encodings; 0 turns it off. The cache is cleared whenever it outgrows this.
  void set_cache_limit(std::size_t max_ids) { cache_limit_ = max_ids; clear_cache(); }
  /// Empties the cache of piece encodings.
  void clear_cache() const;

  /// BPE of one piece by the two algorithms (the reference pass-per-rank and the heap used for
  /// long pieces), exposed so tests can prove them equal.
  void merge_piece_reference(std::string_view piece, std::vector<std::int32_t>& out) const;
  void merge_piece_heap(std::string_view piece, std::vector<std::int32_t>& out) const;

 private:
  struct cache_t {
    std::mutex mutex;
    detail::string_map index;                       ///< piece -> span number
    std::vector<std::pair<std::uint32_t, std::uint32_t>> spans;  ///< (offset, length) in ids
    std::vector<std::int32_t> ids;
  };
  static constexpr std::size_t short_piece = 64;  ///< bytes; longer pieces use the heap algorithm
  static constexpr std::uint32_t no_rank = 0xFFFFFFFFu;

  /// (rank << 32 | merged id) for the pair, or no_rank in the high half.
  std::uint64_t lookup(std::int32_t a, std::int32_t b) const noexcept {
    const std::uint64_t* v = ranks_.find(detail::pair_key(a, b));
    return v ? *v : (std::uint64_t(no_rank) << 32);
  }
  void merge_piece(std::string_view piece, std::vector<std::int32_t>& out) const {
    if (piece.size() <= short_piece || !ordered_) merge_piece_reference(piece, out);
    else merge_piece_heap(piece, out);
  }
  void finish_load();  ///< builds ranks_, byte ids, specials and the ordering check

  std::vector<std::string> tokens_;               ///< id -> raw bytes
  detail::string_map ids_;                        ///< raw bytes -> id
  std::vector<std::pair<std::int32_t, std::int32_t>> merges_;  ///< in rank order
  detail::u64_map ranks_;
  std::array<std::int32_t, 256> byte_id_{};
  std::vector<bool> special_;
  special_tokens specials_;
  bool ordered_ = true;  ///< every token is consumed only by merges ranked after all that make it
  utf8::on_invalid on_invalid_ = utf8::on_invalid::reject;
  std::size_t cache_limit_ = std::size_t{1} << 22;
  std::unique_ptr<cache_t> cache_ = std::make_unique<cache_t>();
};

// ---- loading and saving -------------------------------------------------------------------

inline bpe_tokenizer bpe_tokenizer::from_strings(std::string_view encoder_json, std::string_view vocab_bpe,
                                                 std::string_view encoder_name, std::string_view merges_name) {
  if (encoder_json.empty()) fail("'{}' is an empty file", encoder_name);
  if (vocab_bpe.empty()) fail("'{}' is an empty file", merges_name);
  bpe_tokenizer t;
  json::value doc;
  try {
    doc = json::parse(encoder_json);
  } catch (const error& e) {
    fail("{}: {}", encoder_name, e.what());
  }
  if (!doc.is_object()) fail("{}: expected a JSON object of token -> id", encoder_name);
  const auto& obj = doc.as_object();
  if (obj.empty()) fail("{}: the vocabulary is empty", encoder_name);
  t.tokens_.assign(obj.size(), std::string());
  std::vector<bool> seen(obj.size(), false);
  t.ids_.reserve(obj.size());
  for (const auto& [key, val] : obj) {
    if (!val.is_number()) fail("{}: the id of token \"{}\" is not a number", encoder_name, key);
    const long long id = val.as_int();
    if (id < 0 || std::size_t(id) >= obj.size())
      fail("{}: id {} of token \"{}\" is outside 0..{}", encoder_name, id, key, obj.size() - 1);
    if (seen[std::size_t(id)])
      fail("{}: duplicate id {} (tokens \"{}\" and \"{}\")", encoder_name, id,
           gpt2::bytes_to_token(t.tokens_[std::size_t(id)]), key);
    std::string bytes = gpt2::token_to_bytes(key, encoder_name);
    if (!t.ids_.insert(bytes, std::int32_t(id)))
      fail("{}: duplicate token \"{}\" (ids {} and {})", encoder_name, key, *t.ids_.find(bytes), id);
    seen[std::size_t(id)] = true;
    t.tokens_[std::size_t(id)] = std::move(bytes);
  }
  std::size_t line_no = 0;
  detail::u64_map seen_pairs;
  for_each_line(vocab_bpe, [&](std::size_t n, std::string_view line) {
    line_no = n;
    if (line.empty() || (n == 1 && line.rfind("#version", 0) == 0)) return;
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp + 1 == line.size() || line.find(' ', sp + 1) != std::string_view::npos)
      fail("{} line {}: expected two tokens separated by one space, found \"{}\"", merges_name, n, line);
    const std::string where = fmt::format("{} line {}", merges_name, n);
    const std::string a = gpt2::token_to_bytes(line.substr(0, sp), where);
    const std::string b = gpt2::token_to_bytes(line.substr(sp + 1), where);
    const std::int32_t* ia = t.ids_.find(a);
    const std::int32_t* ib = t.ids_.find(b);
    if (!ia) fail("{}: token \"{}\" is not in {}", where, line.substr(0, sp), encoder_name);
    if (!ib) fail("{}: token \"{}\" is not in {}", where, line.substr(sp + 1), encoder_name);
    if (!t.ids_.find(a + b)) fail("{}: merged token \"{}{}\" is not in {}", where, line.substr(0, sp), line.substr(sp + 1), encoder_name);
    bool inserted;
    std::uint64_t& first_line = seen_pairs.get_or_insert(detail::pair_key(*ia, *ib), n, &inserted);
    if (!inserted) fail("{}: duplicate merge \"{}\" (first on line {})", where, line, first_line);
    t.merges_.emplace_back(*ia, *ib);
  });
  (void)line_no;
  t.finish_load();
  return t;
}

inline void bpe_tokenizer::finish_load() {
  for (int b = 0; b < 256; ++b) {
    const char c = char(b);
    const std::int32_t* id = ids_.find(std::string_view(&c, 1));
    if (!id) fail("BPE vocabulary: byte 0x{:02X} has no token (a byte-level vocabulary needs all 256)", b);
    byte_id_[std::size_t(b)] = *id;
  }
  ranks_ = detail::u64_map();
  ranks_.reserve(merges_.size());
  const std::int32_t n = std::int32_t(tokens_.size());
  std::vector<std::int64_t> made_last(std::size_t(n), -1), used_first(std::size_t(n), INT64_MAX);
  std::vector<bool> produced(std::size_t(n), false);
  for (std::size_t r = 0; r < merges_.size(); ++r) {
    const auto [a, b] = merges_[r];
    const std::int32_t m = *ids_.find(tokens_[std::size_t(a)] + tokens_[std::size_t(b)]);
    ranks_.get_or_insert(detail::pair_key(a, b), (std::uint64_t(r) << 32) | std::uint32_t(m));
    made_last[std::size_t(m)] = std::int64_t(r);
    produced[std::size_t(m)] = true;
    used_first[std::size_t(a)] = std::min<std::int64_t>(used_first[std::size_t(a)], std::int64_t(r));
    used_first[std::size_t(b)] = std::min<std::int64_t>(used_first[std::size_t(b)], std::int64_t(r));
  }
  ordered_ = true;
  for (std::size_t i = 0; i < std::size_t(n); ++i)
    if (made_last[i] >= used_first[i]) ordered_ = false;
  /// Specials: tokens that are neither single bytes nor produced by a merge (<|endoftext|>).
  special_.assign(std::size_t(n), false);
  specials_ = special_tokens{};
  for (std::int32_t id = 0; id < n; ++id) {
    const std::string& s = tokens_[std::size_t(id)];
    if (s.size() == 1 || produced[std::size_t(id)]) continue;
    special_[std::size_t(id)] = true;
    assign_special(specials_, s, id);
  }
  clear_cache();
}

inline std::string bpe_tokenizer::encoder_json() const {
  std::string out = "{";
  for (std::size_t id = 0; id < tokens_.size(); ++id) {
    if (id) out += ", ";
    json::write_string(out, gpt2::bytes_to_token(tokens_[id]));
    out += ": ";
    out += std::to_string(id);
  }
  out += "}";
  return out;
}

inline std::string bpe_tokenizer::merges_text() const {
  std::string out = "#version: 0.2\n";
  for (const auto& [a, b] : merges_) {
    out += gpt2::bytes_to_token(tokens_[std::size_t(a)]);
    out += ' ';
    out += gpt2::bytes_to_token(tokens_[std::size_t(b)]);
    out += '\n';
  }
  return out;
}

inline void bpe_tokenizer::save(const std::string& encoder_json_path, const std::string& vocab_bpe_path) const {
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    if (!f) fail("cannot open '{}' for writing", path);
    f << text;
    if (!f) fail("error while writing '{}'", path);
  };
  write(encoder_json_path, encoder_json());
  write(vocab_bpe_path, merges_text());
}

// ---- encoding -----------------------------------------------------------------------------

inline void bpe_tokenizer::merge_piece_reference(std::string_view piece, std::vector<std::int32_t>& out) const {
  /// GPT-2's loop: find the lowest-ranked adjacent pair, merge every occurrence of it in one
  /// left-to-right pass, repeat. ranks[i] caches the pair (sym[i], sym[i+1]).
  std::int32_t small_sym[short_piece];
  std::uint64_t small_rank[short_piece];
  std::vector<std::int32_t> big_sym;
  std::vector<std::uint64_t> big_rank;
  std::int32_t* sym = small_sym;
  std::uint64_t* rank = small_rank;
  if (piece.size() > short_piece) {
    big_sym.resize(piece.size());
    big_rank.resize(piece.size());
    sym = big_sym.data();
    rank = big_rank.data();
  }
  std::size_t n = piece.size();
  for (std::size_t i = 0; i < n; ++i) sym[i] = byte_id_[static_cast<unsigned char>(piece[i])];
  for (std::size_t i = 0; i + 1 < n; ++i) rank[i] = lookup(sym[i], sym[i + 1]);
  while (n > 1) {
    std::uint64_t best = rank[0];
    for (std::size_t i = 1; i + 1 < n; ++i)
      if (rank[i] < best) best = rank[i];
    if ((best >> 32) == no_rank) break;
    const std::uint64_t best_rank = best >> 32;
    const std::int32_t merged = std::int32_t(std::uint32_t(best));
    const std::int32_t a = merges_[best_rank].first, b = merges_[best_rank].second;
    std::size_t w = 0;
    for (std::size_t i = 0; i < n;) {
      if (i + 1 < n && sym[i] == a && sym[i + 1] == b) {
        sym[w++] = merged;
        i += 2;
      } else {
        sym[w++] = sym[i++];
      }
    }
    n = w;
    // Only pairs touching a merged symbol changed, but re-reading all n-1 is simpler and n is
    // small here; long pieces take the heap path.
    for (std::size_t i = 0; i + 1 < n; ++i) rank[i] = lookup(sym[i], sym[i + 1]);
  }
  out.insert(out.end(), sym, sym + n);
}

inline void bpe_tokenizer::merge_piece_heap(std::string_view piece, std::vector<std::int32_t>& out) const {
  /// Valid when merges are ordered (checked at load): a merge never creates a pair ranked below
  /// itself, so taking pairs by (rank, position) reproduces the pass-per-rank result.
  const std::size_t n = piece.size();
  struct node { std::int32_t id, prev, next; };
  std::vector<node> nodes(n);
  for (std::size_t i = 0; i < n; ++i)
    nodes[i] = {byte_id_[static_cast<unsigned char>(piece[i])], std::int32_t(i) - 1,
                i + 1 < n ? std::int32_t(i + 1) : -1};
  struct cand {
    std::uint64_t rank_and_id;
    std::int32_t pos, left, right;
    bool operator>(const cand& o) const {
      if ((rank_and_id >> 32) != (o.rank_and_id >> 32)) return (rank_and_id >> 32) > (o.rank_and_id >> 32);
      return pos > o.pos;
    }
  };
  std::priority_queue<cand, std::vector<cand>, std::greater<cand>> heap;
  auto consider = [&](std::int32_t i) {
    if (i < 0 || nodes[std::size_t(i)].next < 0) return;
    const std::int32_t j = nodes[std::size_t(i)].next;
    const std::uint64_t r = lookup(nodes[std::size_t(i)].id, nodes[std::size_t(j)].id);
    if ((r >> 32) != no_rank) heap.push({r, i, nodes[std::size_t(i)].id, nodes[std::size_t(j)].id});
  };
  for (std::size_t i = 0; i + 1 < n; ++i) consider(std::int32_t(i));
  std::vector<bool> dead(n, false);
  while (!heap.empty()) {
    const cand c = heap.top();
    heap.pop();
    node& left = nodes[std::size_t(c.pos)];
    if (dead[std::size_t(c.pos)] || left.next < 0 || left.id != c.left || nodes[std::size_t(left.next)].id != c.right)
      continue;
    const std::int32_t j = left.next;
    left.id = std::int32_t(std::uint32_t(c.rank_and_id));
    dead[std::size_t(j)] = true;
    left.next = nodes[std::size_t(j)].next;
    if (left.next >= 0) nodes[std::size_t(left.next)].prev = c.pos;
    consider(left.prev);
    consider(c.pos);
  }
  for (std::int32_t i = 0; i >= 0; i = nodes[std::size_t(i)].next) out.push_back(nodes[std::size_t(i)].id);
}

inline void bpe_tokenizer::clear_cache() const {
  std::lock_guard<std::mutex> lock(cache_->mutex);
  cache_->index.clear();
  cache_->spans.clear();
  cache_->ids.clear();
}

inline void bpe_tokenizer::encode_into(std::string_view text, std::vector<std::int32_t>& out) const {
  std::string repaired;
  const std::string_view s = detail::checked_utf8(text, on_invalid_, repaired, "BPE input");
  out.reserve(out.size() + s.size() / 3 + 4);
  /// The cache is used by whichever thread holds it; others encode without it (same result).
  std::unique_lock<std::mutex> lock(cache_->mutex, std::try_to_lock);
  const bool cached = lock.owns_lock() && cache_limit_ > 0;
  cache_t& c = *cache_;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t e = gpt2::next_piece(s, i);
    const std::string_view piece = s.substr(i, e - i);
    i = e;
    if (piece.size() == 1) {
      out.push_back(byte_id_[static_cast<unsigned char>(piece[0])]);
      continue;
    }
    if (!cached) {
      merge_piece(piece, out);
      continue;
    }
    if (const std::int32_t* k = c.index.find(piece)) {
      const auto [off, len] = c.spans[std::size_t(*k)];
      out.insert(out.end(), c.ids.begin() + off, c.ids.begin() + off + len);
      continue;
    }
    const std::size_t before = out.size();
    merge_piece(piece, out);
    if (c.ids.size() + (out.size() - before) > cache_limit_) {
      c.index.clear();
      c.spans.clear();
      c.ids.clear();
    }
    c.index.insert(piece, std::int32_t(c.spans.size()));
    c.spans.emplace_back(std::uint32_t(c.ids.size()), std::uint32_t(out.size() - before));
    c.ids.insert(c.ids.end(), out.begin() + std::ptrdiff_t(before), out.end());
  }
}

inline std::string bpe_tokenizer::decode(std::span<const std::int32_t> ids, bool keep_specials) const {
  std::string bytes;
  for (std::int32_t id : ids) {
    if (id < 0 || std::size_t(id) >= tokens_.size()) fail("BPE decode: id {} is outside 0..{}", id, tokens_.size() - 1);
    if (!keep_specials && special_[std::size_t(id)]) continue;
    bytes += tokens_[std::size_t(id)];
  }
  // Ids may split a multi-byte character; GPT-2 decodes with errors="replace", and so do we.
  return utf8::sanitize(bytes, utf8::on_invalid::replace);
}

inline const std::string& bpe_tokenizer::token_bytes(std::int32_t id) const {
  if (id < 0 || std::size_t(id) >= tokens_.size()) fail("BPE: id {} is outside 0..{}", id, tokens_.size() - 1);
  return tokens_[std::size_t(id)];
}

inline std::string bpe_tokenizer::id_to_token(std::int32_t id) const { return gpt2::bytes_to_token(token_bytes(id)); }

inline std::optional<std::int32_t> bpe_tokenizer::token_to_id(std::string_view token) const {
  std::string bytes;
  try {
    bytes = gpt2::token_to_bytes(token, "token_to_id");
  } catch (const error&) {
    return std::nullopt;
  }
  if (const std::int32_t* id = ids_.find(bytes)) return *id;
  return std::nullopt;
}

// ---- training -----------------------------------------------------------------------------

inline bpe_tokenizer bpe_tokenizer::train(std::string_view corpus, const bpe_train_options& options) {
  if (corpus.empty()) fail("BPE training: empty corpus");
  if (options.vocab_size < 256 + options.specials.size())
    fail("BPE training: vocab_size {} is below the 256 byte tokens plus {} specials", options.vocab_size,
         options.specials.size());
  std::string repaired;
  const std::string_view text = detail::checked_utf8(corpus, options.on_invalid, repaired, "BPE training corpus");

  bpe_tokenizer t;
  const auto& bm = gpt2::bytes_to_unicode();
  for (std::uint8_t b : bm.byte_order) {  // ids 0..255 in GPT-2's byte order
    t.ids_.insert(std::string(1, char(b)), std::int32_t(t.tokens_.size()));
    t.tokens_.emplace_back(1, char(b));
  }
  /// Count distinct pieces, then turn each into its byte symbols.
  detail::string_map piece_index;
  std::vector<detail::merge_word> words;
  std::vector<std::string_view> piece_text;
  gpt2::pretokenize(text, [&](std::string_view p) {
    if (const std::int32_t* k = piece_index.find(p)) {
      ++words[std::size_t(*k)].count;
      return;
    }
    piece_index.insert(p, std::int32_t(words.size()));
    detail::merge_word w;
    w.count = 1;
    for (unsigned char c : p) w.symbols.push_back(*t.ids_.find(std::string_view(reinterpret_cast<const char*>(&c), 1)));
    words.push_back(std::move(w));
  });
  const std::size_t target = options.vocab_size - options.specials.size();
  auto steps = detail::train_merges(
      words, std::max<std::int64_t>(options.min_frequency, 1),
      [&](std::int32_t a, std::int32_t b) {
        std::string s = t.tokens_[std::size_t(a)] + t.tokens_[std::size_t(b)];
        if (const std::int32_t* id = t.ids_.find(s)) return *id;
        const std::int32_t id = std::int32_t(t.tokens_.size());
        t.ids_.insert(s, id);
        t.tokens_.push_back(std::move(s));
        return id;
      },
      [&] { return t.tokens_.size() < target; });
  for (const auto& st : steps) t.merges_.emplace_back(st.left, st.right);
  for (const std::string& sp : options.specials) {
    if (!t.ids_.insert(sp, std::int32_t(t.tokens_.size())))
      fail("BPE training: special token \"{}\" is already a token (or listed twice)", sp);
    t.tokens_.push_back(sp);
  }
  t.finish_load();
  return t;
}

}  // namespace ctformer
