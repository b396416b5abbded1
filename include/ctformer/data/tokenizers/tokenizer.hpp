// The interface every tokenizer shares (byte, char, BPE, WordPiece, SentencePiece): text to ids,
// ids back to text, the vocabulary and the special-token ids. Tokenizers run outside the training
// step, so a virtual interface costs nothing that matters and keeps compile times low.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ctformer {

/// Ids of the special tokens a tokenizer knows; -1 when it has none of that kind.
struct special_tokens {
  std::int32_t pad = -1;   ///< `<PAD>` / [PAD]
  std::int32_t unk = -1;   ///< [UNK]
  std::int32_t cls = -1;   ///< [CLS]
  std::int32_t sep = -1;   ///< [SEP]
  std::int32_t mask = -1;  ///< [MASK]
  std::int32_t bos = -1;   ///< beginning of sequence (GPT-style models)
  std::int32_t eos = -1;   ///< end of sequence, e.g. GPT-2's <|endoftext|>
};

/// Text to ids and back: the interface every tokenizer implements.
class tokenizer {
 public:
  virtual ~tokenizer() = default;
  /// Text (UTF-8) to ids. Specials are not added here; see data/encode.hpp for templates.
  virtual std::vector<std::int32_t> encode(std::string_view text) const = 0;
  /// Ids back to text. Ids of special tokens are skipped unless keep_specials.
  virtual std::string decode(std::span<const std::int32_t> ids, bool keep_specials = false) const = 0;
  /// Number of ids, specials included.
  virtual std::size_t vocab_size() const = 0;
  /// Ids of the special tokens (-1 for absent kinds).
  virtual const special_tokens& specials() const = 0;
  /// The token's text as the vocabulary spells it, and the reverse lookup.
  virtual std::string id_to_token(std::int32_t id) const = 0;
  /// The id of a token spelled as in the vocabulary, or nothing.
  virtual std::optional<std::int32_t> token_to_id(std::string_view token) const = 0;
};

}  // namespace ctformer
