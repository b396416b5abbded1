// Input checks shared by the tokenizers: find invalid UTF-8 quickly (ASCII eight bytes at a
// time), reject it with the byte offset or repair it with U+FFFD as the caller chose, and decode
// code points from text already known to be valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../../base/utf8.hpp"

namespace ctformer::detail {

/// Offset of the first invalid UTF-8 byte, or npos.
inline std::size_t first_invalid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const std::size_t at = i;
    char32_t cp;
    if (!utf8::decode_next(s, i, cp)) return at;
  }
  return std::string_view::npos;
}

/// Valid input is returned as is; invalid input is rejected or repaired (into storage) per mode.
inline std::string_view checked_utf8(std::string_view text, utf8::on_invalid mode, std::string& storage,
                                     std::string_view where) {
  const std::size_t bad = first_invalid_utf8(text);
  if (bad == std::string_view::npos) return text;
  if (mode == utf8::on_invalid::reject) utf8::throw_invalid(text, bad, where);
  storage = utf8::sanitize(text, utf8::on_invalid::replace);
  return storage;
}

/// Decodes one code point of valid UTF-8 at s[i]; returns its byte length.
inline std::size_t decode_valid(std::string_view s, std::size_t i, char32_t& cp) noexcept {
  const auto b = [&](std::size_t k) { return char32_t(static_cast<unsigned char>(s[i + k])); };
  const char32_t b0 = b(0);
  if (b0 < 0x80) { cp = b0; return 1; }
  if (b0 < 0xE0) { cp = ((b0 & 0x1F) << 6) | (b(1) & 0x3F); return 2; }
  if (b0 < 0xF0) { cp = ((b0 & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F); return 3; }
  cp = ((b0 & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  return 4;
}

}  // namespace ctformer::detail
