// Fuzzes loading a WordPiece vocab.txt (data/tokenizers/wordpiece.hpp) and encoding with it:
// "vocab<separator>text"; the first byte of the text picks the options.
#include <ctformer/data/tokenizers/wordpiece.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  return fuzz::run([&] {
    auto [vocab, text] = fuzz::split2(fuzz::as_view(data, size));
    wordpiece_options o;
    if (!text.empty()) {
      const auto b = static_cast<unsigned char>(text[0]);
      o.lowercase = b & 1;
      o.strip_accents = b & 2;
      o.split_cjk = b & 4;
      o.max_chars_per_word = 1 + (b >> 3);
      if (b & 0x80) o.on_invalid = utf8::on_invalid::replace;
      text.remove_prefix(1);
    }
    const auto tok = wordpiece_tokenizer::from_string(vocab, "fuzz-vocab.txt", o);
    const auto ids = tok.encode(text);
    for (auto id : ids) fuzz::require(id >= 0 && std::size_t(id) < tok.vocab_size(), "wordpiece: ids inside the vocabulary");
    (void)tok.decode(ids);
    (void)tok.decode(ids, true);
  });
}
