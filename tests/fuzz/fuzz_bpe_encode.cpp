// Fuzzes GPT-2 BPE encoding of arbitrary bytes (pre-tokenizer, merges, the cache) with the real
// GPT-2 files when the shared data is present, else a vocabulary trained on a fixed text.
// Valid UTF-8 must round-trip; invalid UTF-8 is rejected with ctformer::error.
#include <ctformer/data/tokenizers/bpe.hpp>

#include <filesystem>

#include "fuzz_common.hpp"

namespace {
const ctformer::bpe_tokenizer& tok() {
  static const ctformer::bpe_tokenizer t = [] {
    const std::string dir = std::string(CTFORMER_DATA_DIR) + "/gpt2-bpe";
    if (std::filesystem::exists(dir + "/encoder.json")) return ctformer::bpe_tokenizer::from_dir(dir);
    ctformer::bpe_train_options o;
    o.vocab_size = 400;
    o.min_frequency = 1;
    return ctformer::bpe_tokenizer::train(
        "The quick brown fox jumps over the lazy dog. It's 2024; l'\xC3\xA9t\xC3\xA9 est l\xC3\xA0 \xF0\x9F\x98\x80!\n"
        "Shall I compare thee to a summer's day? Thou art more lovely and more temperate.\n", o);
  }();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  const auto& t = tok();
  return fuzz::run([&] {
    const std::string_view text = fuzz::as_view(data, size);
    const auto ids = t.encode(text);
    for (auto id : ids) fuzz::require(id >= 0 && std::size_t(id) < t.vocab_size(), "bpe: ids inside the vocabulary");
    fuzz::require(t.decode(ids, true) == text, "bpe: decode(encode(text)) == text");
  });
}
