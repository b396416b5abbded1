// Byte-level tokenizer: ids 0..255 are the UTF-8 bytes themselves, specials follow from 256.
// Any text round-trips; invalid UTF-8 is rejected or repaired (U+FFFD) before encoding, as
// chosen, so that every tokenizer treats bad input the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../error.hpp"
#include "../../base/utf8.hpp"
#include "input_check.hpp"
#include "special_names.hpp"
#include "tokenizer.hpp"

namespace ctformer {

inline const std::vector<std::string>& default_specials() {
  static const std::vector<std::string> s = {"<PAD>", "<UNK>", "[CLS]", "[SEP]", "[MASK]", "<BOS>", "<EOS>"};
  return s;
}

/// Ids 0..255 are the bytes of the UTF-8 text; specials follow from 256.
class byte_tokenizer : public tokenizer {
 public:
  /// Specials get ids 256, 257, ... in order; mode: how encode() treats invalid UTF-8.
  explicit byte_tokenizer(std::vector<std::string> specials = default_specials(),
                          utf8::on_invalid mode = utf8::on_invalid::reject)
      : names_(std::move(specials)), on_invalid_(mode) {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j)
        if (names_[j] == names_[i]) fail("byte tokenizer: special token \"{}\" is listed twice", names_[i]);
      assign_special(specials_, names_[i], std::int32_t(256 + i));
    }
  }

  std::vector<std::int32_t> encode(std::string_view text) const override {
    std::string repaired;
    const std::string_view s = detail::checked_utf8(text, on_invalid_, repaired, "byte tokenizer input");
    std::vector<std::int32_t> out(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<unsigned char>(s[i]);
    return out;
  }
  std::string decode(std::span<const std::int32_t> ids, bool keep_specials = false) const override {
    std::string out;
    for (std::int32_t id : ids) {
      if (id >= 0 && id < 256) out.push_back(char(id));
      else if (id >= 256 && std::size_t(id) < vocab_size()) {
        if (keep_specials) out += names_[std::size_t(id - 256)];
      } else {
        fail("byte tokenizer: id {} is outside 0..{}", id, vocab_size() - 1);
      }
    }
    return utf8::sanitize(out, utf8::on_invalid::replace);
  }
  /// 256 plus the number of specials.
  std::size_t vocab_size() const override { return 256 + names_.size(); }
  /// Ids of the special tokens (-1 for absent kinds).
  const special_tokens& specials() const override { return specials_; }
  std::string id_to_token(std::int32_t id) const override {
    if (id >= 0 && id < 256) return std::string(1, char(id));
    if (id >= 256 && std::size_t(id) < vocab_size()) return names_[std::size_t(id - 256)];
    fail("byte tokenizer: id {} is outside 0..{}", id, vocab_size() - 1);
  }
  /// The id of a one-byte token or of a special's name, or nothing.
  std::optional<std::int32_t> token_to_id(std::string_view token) const override {
    if (token.size() == 1) return static_cast<unsigned char>(token[0]);
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == token) return std::int32_t(256 + i);
    return std::nullopt;
  }
  /// How encode() treats invalid UTF-8: reject, or repair with U+FFFD.
  void set_on_invalid(utf8::on_invalid mode) { on_invalid_ = mode; }

 private:
  std::vector<std::string> names_;
  special_tokens specials_;
  utf8::on_invalid on_invalid_;
};

}  // namespace ctformer
