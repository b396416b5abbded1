// Fuzzes loading GPT-2's two files (encoder.json, vocab.bpe; data/tokenizers/bpe.hpp), separated
// by fuzz::separator, then encodes and decodes with what loaded: text round-trips.
#include <ctformer/data/tokenizers/bpe.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  return fuzz::run([&] {
    const auto [encoder, merges] = fuzz::split2(fuzz::as_view(data, size));
    const auto tok = bpe_tokenizer::from_strings(encoder, merges);
    for (std::string_view text : {std::string_view("Hello world, it's 2024!"), std::string_view("  \xC3\xA9t\xC3\xA9\n")}) {
      const auto ids = tok.encode(text);
      for (auto id : ids) fuzz::require(id >= 0 && std::size_t(id) < tok.vocab_size(), "bpe: ids inside the vocabulary");
      fuzz::require(tok.decode(ids, true) == text, "bpe: decode(encode(text)) == text");
    }
    (void)tok.encoder_json();
    (void)tok.merges_text();
  });
}
