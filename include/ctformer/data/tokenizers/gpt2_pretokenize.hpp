// GPT-2's pre-tokenizer written by hand (no regex engine): it splits text into the pieces that
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// matches, with \s = White_Space as in Python's `regex` module (which GPT-2's encoder.py uses).
// The input must be valid UTF-8 (the tokenizer validates it first). ASCII goes through a table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../unicode/unicode.hpp"
#include "input_check.hpp"

namespace ctformer::gpt2 {

enum class char_class : std::uint8_t { other, letter, number, space };

namespace detail {

inline constexpr auto ascii_classes = [] {
  struct table { char_class c[128]; } t{};
  for (int i = 0; i < 128; ++i) {
    char_class k = char_class::other;
    if ((i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z')) k = char_class::letter;
    else if (i >= '0' && i <= '9') k = char_class::number;
    else if ((i >= 9 && i <= 13) || i == ' ') k = char_class::space;
    t.c[i] = k;
  }
  return t;
}();

inline char_class classify(char32_t cp) noexcept {
  if (cp < 0x80) return ascii_classes.c[cp];
  if (unicode::is_white_space(cp)) return char_class::space;
  if (unicode::is_letter(cp)) return char_class::letter;
  if (unicode::is_number(cp)) return char_class::number;
  return char_class::other;
}

/// Class and byte length of the code point at s[i].
inline char_class class_at(std::string_view s, std::size_t i, std::size_t& len) noexcept {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    len = 1;
    return ascii_classes.c[c];
  }
  char32_t cp;
  len = ctformer::detail::decode_valid(s, i, cp);
  return classify(cp);
}

}  // namespace detail

/// End (exclusive byte offset) of the piece that starts at byte i < s.size().
inline std::size_t next_piece(std::string_view s, std::size_t i) noexcept {
  const std::size_t n = s.size();
  if (s[i] == '\'' && i + 1 < n) {  // the contractions come first in the alternation
    const char a = s[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 < n) {
      const char b = s[i + 2];
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
  }
  std::size_t len;
  char_class k = detail::class_at(s, i, len);
  std::size_t j = i + len;
  if (s[i] == ' ' && j < n) {
    /// " ?X+": the space joins a following letter, number or other run.
    std::size_t len2;
    const char_class k2 = detail::class_at(s, j, len2);
    if (k2 != char_class::space) {
      k = k2;
      j += len2;
    }
  }
  if (k != char_class::space) {
    while (j < n) {
      const unsigned char c = static_cast<unsigned char>(s[j]);
      if (c < 0x80) {  // tight loop for ASCII
        if (detail::ascii_classes.c[c] != k) break;
        ++j;
        continue;
      }
      std::size_t l;
      if (detail::class_at(s, j, l) != k) break;
      j += l;
    }
    return j;
  }
  /// Whitespace: \s+(?!\S) takes the whole run when it ends the text or is followed by more
  /// whitespace; before a non-space it gives back the last character (which then prefixes the
  /// next piece if it is ' '). A lone whitespace character before a non-space is \s+.
  std::size_t last = i;  ///< start of the run's last character
  while (j < n) {
    std::size_t l;
    if (detail::class_at(s, j, l) != char_class::space) break;
    last = j;
    j += l;
  }
  if (j == n || last == i) return j;
  return last;
}

/// Calls f(piece) for every piece of s, in order.
template <class F>
void pretokenize(std::string_view s, F&& f) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t e = next_piece(s, i);
    f(s.substr(i, e - i));
    i = e;
  }
}

}  // namespace ctformer::gpt2
