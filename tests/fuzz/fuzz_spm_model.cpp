// Fuzzes the SentencePiece .model reader (protobuf wire format, pieces, specs; tokenizers/
// sentencepiece_model.hpp) and building a tokenizer from what it accepts, then encoding, n-best,
// sampling and decoding a few fixed texts with it.
#include <ctformer/data/tokenizers/sentencepiece.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  return fuzz::run([&] {
    const auto tok = sentencepiece_tokenizer::from_serialized(fuzz::as_view(data, size), "fuzz.model");
    std::mt19937 rng(1);
    for (std::string_view text : {std::string_view("Hello  world, \xC3\xA9t\xC3\xA9 \xEF\xBC\xA1\x01"),
                                  std::string_view("\xE2\x96\x81x\xF0\x9F\x98\x80 \t")}) {
      const auto ids = tok.encode(text);
      for (auto id : ids) fuzz::require(id >= 0 && std::size_t(id) < tok.vocab_size(), "spm: ids inside the vocabulary");
      (void)tok.decode(ids, true);
      (void)tok.sample(text, rng, -1, 0.5f);
      if (tok.type() == spm::model_type::unigram) (void)tok.nbest(text, 3);
    }
    // What it accepted serializes and reads back (small models only: loading the 250 KB nmt_nfkc
    // fixtures twice takes most of libFuzzer's one-second budget under ASan).
    if (size > 65536) return;
    const auto again = sentencepiece_tokenizer::from_serialized(tok.serialize(), "fuzz.model (round trip)");
    fuzz::require(again.vocab_size() == tok.vocab_size(), "spm: serialize round-trips the pieces");
  });
}
