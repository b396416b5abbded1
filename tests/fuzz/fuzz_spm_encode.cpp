// Fuzzes SentencePiece encoding of arbitrary bytes with real models (tests/spm/fixtures): the
// nmt_nfkc normalizer, Unigram Viterbi, n-best, sampling over the lattice and over the n best,
// BPE with dropout, byte fallback, and decoding. The first byte picks the model and the call.
#include <ctformer/data/tokenizers/sentencepiece.hpp>

#include "fuzz_common.hpp"

namespace {
const ctformer::sentencepiece_tokenizer& model(int which) {
  const auto load = [](const char* name) {
    return ctformer::sentencepiece_tokenizer::load(std::string(CTFORMER_TEST_SOURCE_DIR) + "/spm/fixtures/" + name);
  };
  static const ctformer::sentencepiece_tokenizer models[] = {
      load("french_unigram1000_nmt_nfkc.model"), load("french_bpe1000_identity.model"),
      load("shakespeare_unigram1000_bytes.model"), load("shakespeare_unigram1000_suffix.model")};
  return models[which];
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  if (size == 0) return 0;
  const auto& tok = model(data[0] & 3);
  const int call = (data[0] >> 2) & 3;
  const std::string_view text = fuzz::as_view(data + 1, size - 1);
  return fuzz::run([&] {
    std::mt19937 rng(data[0]);
    std::vector<std::int32_t> ids;
    switch (call) {
      case 0: ids = tok.encode(text); break;
      case 1: ids = tok.sample(text, rng, -1, 0.2f); break;
      case 2: ids = tok.sample(text, rng, 1 + (data[0] >> 4), 0.5f); break;
      case 3:
        if (tok.type() == spm::model_type::unigram) {
          for (const auto& v : tok.nbest(text, 1 + (data[0] >> 4)))
            for (auto id : v) fuzz::require(id >= 0 && std::size_t(id) < tok.vocab_size(), "spm: n-best ids inside the vocabulary");
        }
        ids = tok.encode(text);
        break;
    }
    for (auto id : ids) fuzz::require(id >= 0 && std::size_t(id) < tok.vocab_size(), "spm: ids inside the vocabulary");
    (void)tok.decode(ids);
    (void)tok.decode(ids, true);
  });
}
