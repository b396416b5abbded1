// UTF-8 decoding and encoding with strict validation: overlong forms, surrogates, code points
// above U+10FFFF and truncated sequences are invalid. Invalid input is either rejected with the
// byte offset of the first bad byte, or each maximal invalid subsequence becomes one U+FFFD
// (the WHATWG / Unicode "maximal subpart" practice).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "../error.hpp"

namespace ctformer::utf8 {

enum class on_invalid { reject, replace };

inline constexpr char32_t replacement_char = 0xFFFD;

/// Decodes the code point starting at s[pos]. On success advances pos past it and returns true.
/// On failure advances pos past the maximal invalid subpart (at least one byte), sets cp to
/// U+FFFD and returns false.
inline bool decode_next(std::string_view s, std::size_t& pos, char32_t& cp) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80) {
    cp = b0;
    ++pos;
    return true;
  }
  std::size_t need;
  char32_t v;
  unsigned char lo = 0x80, hi = 0xBF;  ///< allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    v = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    v = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    v = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    cp = replacement_char;
    ++pos;
    return false;
  }
  std::size_t i = pos + 1;
  for (std::size_t k = 0; k < need; ++k, ++i) {
    const unsigned char lo_k = k == 0 ? lo : 0x80, hi_k = k == 0 ? hi : 0xBF;
    if (i >= s.size() || byte(i) < lo_k || byte(i) > hi_k) {
      cp = replacement_char;
      pos = i;  // the lead byte and the valid continuation bytes seen so far form one subpart
      return false;
    }
    v = (v << 6) | (byte(i) & 0x3F);
  }
  cp = v;
  pos = i;
  return true;
}

inline void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

/// Byte offset of the first invalid byte, or npos when s is valid UTF-8.
inline std::size_t first_invalid(std::string_view s) noexcept {
  std::size_t pos = 0;
  char32_t cp;
  while (pos < s.size()) {
    const std::size_t at = pos;
    if (!decode_next(s, pos, cp)) return at;
  }
  return std::string_view::npos;
}

inline bool valid(std::string_view s) noexcept { return first_invalid(s) == std::string_view::npos; }

[[noreturn]] inline void throw_invalid(std::string_view s, std::size_t at, std::string_view where) {
  fail("invalid UTF-8 at byte offset {}{}{} (byte 0x{:02X})", at, where.empty() ? "" : " in ", where,
       static_cast<unsigned>(static_cast<unsigned char>(s[at])));
}

/// Valid input comes back unchanged; invalid input is rejected (ctformer::error naming the byte
/// offset and `where`, e.g. a file name and line) or repaired with U+FFFD.
inline std::string sanitize(std::string_view s, on_invalid mode = on_invalid::reject,
                            std::string_view where = {}) {
  const std::size_t bad = first_invalid(s);
  if (bad == std::string_view::npos) return std::string(s);
  if (mode == on_invalid::reject) throw_invalid(s, bad, where);
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t pos = 0;
  char32_t cp;
  while (pos < s.size()) {
    decode_next(s, pos, cp);
    append(out, cp);
  }
  return out;
}

inline std::u32string decode(std::string_view s, on_invalid mode = on_invalid::reject,
                             std::string_view where = {}) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  char32_t cp;
  while (pos < s.size()) {
    const std::size_t at = pos;
    if (!decode_next(s, pos, cp) && mode == on_invalid::reject) throw_invalid(s, at, where);
    out.push_back(cp);
  }
  return out;
}

inline std::string encode(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) append(out, cp);
  return out;
}

}  // namespace ctformer::utf8
