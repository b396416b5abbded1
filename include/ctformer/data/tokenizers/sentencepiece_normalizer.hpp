// SentencePiece text normalization, as spm_encode applies it before segmenting: a precompiled
// charsmap (longest matching rule wins; the rules sit in a darts-clone double array followed by the
// NUL-terminated replacement strings), then whitespace handling: drop leading, trailing and repeated
// spaces, add the dummy prefix, and write spaces as U+2581. The map of a loaded model comes from
// its file; sentencepiece_nfkc.hpp builds one from the Unicode tables for training.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../error.hpp"
#include "../../base/utf8.hpp"
#include "double_array.hpp"
#include "sentencepiece_model.hpp"

namespace ctformer::spm {

inline constexpr std::string_view space_symbol = "\xE2\x96\x81";  ///< U+2581 LOWER ONE EIGHTH BLOCK

/// Length of the UTF-8 character at s[0] as SentencePiece counts it from the lead byte alone
/// (continuation or invalid lead bytes count as one byte); never more than s.size().
inline std::size_t one_char_len(std::string_view s) noexcept {
  static constexpr unsigned char len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  const std::size_t n = len[static_cast<unsigned char>(s[0]) >> 4];
  return n < s.size() ? n : s.size();
}

/// The parsed normalizer_spec.precompiled_charsmap: `<uint32 trie size><trie units><strings>`.
class charsmap {
 public:
  charsmap() = default;

  static charsmap parse(std::string_view blob, std::string_view where = "precompiled_charsmap") {
    charsmap m;
    if (blob.empty()) return m;
    if (blob.size() <= 4) fail("{}: the blob is broken ({} bytes, too short for its header)", where, blob.size());
    const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
    const std::uint32_t trie_size = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
    /// The size is checked against the bytes after the header, not the whole blob: a trie that
    /// fits the blob but not its header would read past the end.
    const std::size_t body = blob.size() - 4;
    if (trie_size > body)
      fail("{}: trie size {} exceeds the {} bytes after the 4-byte header (blob size {})", where, trie_size, body,
           blob.size());
    if (trie_size % 4 != 0 || trie_size == 0) fail("{}: trie size {} is not a positive multiple of 4", where, trie_size);
    std::vector<std::uint32_t> units(trie_size / 4);
    for (std::size_t i = 0; i < units.size(); ++i) {
      const unsigned char* q = p + 4 + 4 * i;
      units[i] = std::uint32_t(q[0]) | std::uint32_t(q[1]) << 8 | std::uint32_t(q[2]) << 16 | std::uint32_t(q[3]) << 24;
    }
    m.normalized_ = std::string(blob.substr(4 + std::size_t(trie_size)));
    // Every value points into the strings, each of which ends with a NUL byte: check both once
    // here so that a lookup can never run off the end.
    if (m.normalized_.empty() || m.normalized_.back() != '\0')
      fail("{}: the replacement strings do not end with a NUL byte", where);
    for (std::uint32_t u : units)
      if ((u & 0x80000000u) && u != 0x80000000u && ctformer::detail::double_array::value(u) >= m.normalized_.size())
        fail("{}: a rule points at offset {} past the {} bytes of replacement strings", where,
             ctformer::detail::double_array::value(u), m.normalized_.size());
    /// The rules reachable from the root form a tree whose values are value units (checked above):
    /// lookups then stop after the longest key and never leave the strings.
    m.trie_ = ctformer::detail::double_array(std::move(units));
    const auto facts = m.trie_.check_tree(where);
    if (facts.has_values && facts.max_value >= m.normalized_.size())
      fail("{}: a rule points at offset {} past the {} bytes of replacement strings", where, facts.max_value,
           m.normalized_.size());
    for (int c = 1; c < 256; ++c) {
      const std::size_t node = ctformer::detail::double_array::offset(m.trie_.units()[0]) ^ std::size_t(c);
      m.first_byte_[c] = node < m.trie_.size() && ctformer::detail::double_array::label(m.trie_.units()[node]) == std::uint32_t(c);
    }
    m.first_byte_[0] = true;  // darts can match a NUL byte against an empty unit: take the slow path
    /// ASCII bytes that no rule can consume when the next byte is ASCII too (rules starting with a
    /// letter continue with a combining mark, which is not ASCII): the normalizer copies them.
    const auto& u = m.trie_.units();
    for (unsigned b = 1; b < 128; ++b) {
      const std::size_t node = ctformer::detail::double_array::offset(u[0]) ^ b;
      bool safe = true;
      if (node < u.size() && ctformer::detail::double_array::label(u[node]) == b) {
        safe = !ctformer::detail::double_array::has_leaf(u[node]);
        for (unsigned c = 0; c < 128 && safe; ++c) {
          const std::size_t child = node ^ ctformer::detail::double_array::offset(u[node]) ^ c;
          safe = !(child < u.size() && ctformer::detail::double_array::label(u[child]) == c);
        }
      }
      m.ascii_safe_[b] = safe;
    }
    return m;
  }

  /// True when byte b (ASCII), followed by an ASCII byte or the end, is never rewritten.
  bool ascii_passthrough(unsigned char b) const noexcept { return trie_.empty() ? b != 0 : ascii_safe_[b]; }

  /// True when the model has no charsmap (identity normalization).
  bool empty() const noexcept { return trie_.empty(); }

  /// The longest rule whose key is a prefix of s (SentencePiece keeps the first 32 matches): its
  /// length and replacement, or length 0.
  std::pair<std::size_t, std::string_view> match(std::string_view s) const {
    std::size_t best = 0;
    std::uint32_t value = 0;
    if (trie_.empty() || s.empty() || !first_byte_[static_cast<unsigned char>(s[0])]) return {0, {}};
    trie_.common_prefix_search(s, [&](std::size_t len, std::uint32_t v) {
      if (len > best) {
        best = len;
        value = v;
      }
    }, 32);
    if (best == 0) return {0, {}};
    return {best, std::string_view(normalized_.c_str() + value)};
  }

  /// The rules as (key, replacement) pairs of UTF-8 strings.
  std::vector<std::pair<std::string, std::string>> rules() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& [k, v] : trie_.entries())
      if (v < normalized_.size()) out.emplace_back(k, std::string(normalized_.c_str() + v));
    return out;
  }

  /// Serializes rules (code point sequences) into a blob that SentencePiece reads.
  static std::string compile(const std::map<std::u32string, std::u32string>& rules) {
    std::map<std::u32string, std::uint32_t> target_at;
    std::string strings;
    for (const auto& [k, v] : rules) target_at.emplace(v, 0);
    for (auto& [v, at] : target_at) {
      at = std::uint32_t(strings.size());
      strings += utf8::encode(v);
      strings.push_back('\0');
    }
    std::vector<std::pair<std::string, std::uint32_t>> kv;
    kv.reserve(rules.size());
    for (const auto& [k, v] : rules) kv.emplace_back(utf8::encode(k), target_at.at(v));
    std::sort(kv.begin(), kv.end());
    const auto trie = ctformer::detail::double_array::build(kv);
    std::string blob(4, '\0');
    const std::uint32_t n = std::uint32_t(trie.size() * 4);
    for (int i = 0; i < 4; ++i) blob[i] = char((n >> (8 * i)) & 0xFF);
    for (std::uint32_t u : trie.units())
      for (int i = 0; i < 4; ++i) blob.push_back(char((u >> (8 * i)) & 0xFF));
    return blob + strings;
  }

 private:
  ctformer::detail::double_array trie_;
  std::string normalized_;
  std::array<bool, 256> first_byte_{};
  std::array<bool, 128> ascii_safe_{};
};

/// The normalizer of one model: charsmap, user-defined symbols kept verbatim, whitespace handling.
class normalizer {
 public:
  normalizer() = default;
  /// `where` names the charsmap in errors (the tokenizer passes the file and the spec's field).
  normalizer(const normalizer_spec& spec, bool treat_whitespace_as_suffix,
             const std::vector<std::string>& user_defined_symbols = {},
             std::string_view where = "precompiled_charsmap")
      : spec_(spec), suffix_(treat_whitespace_as_suffix), map_(charsmap::parse(spec.precompiled_charsmap, where)) {
    if (!user_defined_symbols.empty()) {
      std::vector<std::pair<std::string, std::uint32_t>> kv;
      for (const auto& s : user_defined_symbols) kv.emplace_back(s, 0);
      std::sort(kv.begin(), kv.end());
      kv.erase(std::unique(kv.begin(), kv.end(), [](auto& a, auto& b) { return a.first == b.first; }), kv.end());
      user_defined_ = ctformer::detail::double_array::build(kv);
    }
    for (unsigned b = 0; b < 128; ++b) copy_ascii_[b] = b != ' ' && map_.ascii_passthrough(static_cast<unsigned char>(b));
    for (const auto& s : user_defined_symbols)
      if (!s.empty() && static_cast<unsigned char>(s[0]) < 128) copy_ascii_[static_cast<unsigned char>(s[0])] = false;
  }

  /// The normalizer_spec in use.
  const normalizer_spec& spec() const noexcept { return spec_; }
  /// The parsed charsmap.
  const charsmap& map() const noexcept { return map_; }

  /// One step: the normalized form of the character(s) at the start of s and how many input bytes
  /// they used. Invalid UTF-8 becomes U+FFFD, one byte at a time, as in SentencePiece.
  std::pair<std::string_view, std::size_t> normalize_prefix(std::string_view s) const {
    if (!user_defined_.empty()) {
      std::size_t best = 0;
      user_defined_.common_prefix_search(s, [&](std::size_t len, std::uint32_t) { best = std::max(best, len); });
      if (best) return {s.substr(0, best), best};
    }
    if (const auto [len, rep] = map_.match(s); len) return {rep, len};
    std::size_t pos = 0;
    char32_t cp;
    if (!utf8::decode_next(s, pos, cp)) return {"\xEF\xBF\xBD", 1};
    return {s.substr(0, pos), pos};
  }

  /// input normalized as the spec says: charsmap rules, whitespace folding and escaping, dummy prefix.
  std::string normalize(std::string_view input) const {
    std::string out;
    normalize(input, out);
    return out;
  }

  void normalize(std::string_view input, std::string& out) const {
    out.clear();
    const bool squeeze = spec_.remove_extra_whitespaces, escape = spec_.escape_whitespaces;
    if (squeeze) {
      while (!input.empty()) {
        const auto [rep, used] = normalize_prefix(input);
        if (rep != " ") break;
        input.remove_prefix(used);
      }
    }
    if (input.empty()) return;
    out.reserve(input.size() + input.size() / 2 + 3);
    const auto add_space = [&] {
      if (escape) out += space_symbol;
      else out.push_back(' ');
    };
    if (!suffix_ && spec_.add_dummy_prefix) add_space();
    bool prev_space = squeeze;
    while (!input.empty()) {
      /// Fast path: plain ASCII that no rule touches is copied as is.
      const auto b0 = static_cast<unsigned char>(input[0]);
      if (b0 < 128 && copy_ascii_[b0] && (input.size() == 1 || static_cast<unsigned char>(input[1]) < 128)) {
        out.push_back(char(b0));
        prev_space = false;
        input.remove_prefix(1);
        continue;
      }
      auto [rep, used] = normalize_prefix(input);
      if (prev_space)
        while (!rep.empty() && rep.front() == ' ') rep.remove_prefix(1);
      if (!rep.empty()) {
        if (escape) {
          for (char c : rep) {
            if (c == ' ') out += space_symbol;
            else out.push_back(c);
          }
        } else {
          out += rep;
        }
        prev_space = rep.back() == ' ';
      }
      input.remove_prefix(used);
      if (!squeeze) prev_space = false;
    }
    if (squeeze) {
      const std::string_view sp = escape ? space_symbol : std::string_view(" ");
      while (out.size() >= sp.size() && std::string_view(out).substr(out.size() - sp.size()) == sp)
        out.resize(out.size() - sp.size());
    }
    if (suffix_ && spec_.add_dummy_prefix) add_space();
  }

 private:
  normalizer_spec spec_;
  bool suffix_ = false;
  charsmap map_;
  ctformer::detail::double_array user_defined_;
  std::array<bool, 128> copy_ascii_{};
};

}  // namespace ctformer::spm
