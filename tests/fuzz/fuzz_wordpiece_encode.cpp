// Fuzzes WordPiece encoding (basic tokenizer: cleaning, lowercasing, accents, CJK, punctuation;
// then greedy longest-match) with BERT's vocabulary when the shared data is present, else a
// small one.
#include <ctformer/data/tokenizers/wordpiece.hpp>

#include <filesystem>

#include "fuzz_common.hpp"

namespace {
const ctformer::wordpiece_tokenizer& tok() {
  static const ctformer::wordpiece_tokenizer t = [] {
    const std::string vocab = std::string(CTFORMER_DATA_DIR) + "/bert-wordpiece/vocab.txt";
    if (std::filesystem::exists(vocab)) return ctformer::wordpiece_tokenizer::from_file(vocab);
    return ctformer::wordpiece_tokenizer::from_string(
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nquick\nbrown\nfox\n##es\n##s\na\nb\nc\n##a\n##b\n##c\n,\n.\n'\n");
  }();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  const auto& t = tok();
  return fuzz::run([&] {
    const auto ids = t.encode(fuzz::as_view(data, size));
    for (auto id : ids) fuzz::require(id >= 0 && std::size_t(id) < t.vocab_size(), "wordpiece: ids inside the vocabulary");
    (void)t.decode(ids);
  });
}
