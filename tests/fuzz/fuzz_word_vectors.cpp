// Fuzzes the word-vector reader (data/word_vectors.hpp: GloVe / word2vec text, optional
// "count dim" header) into a small embedding; the first byte picks the width and options.
#include <ctformer/data/word_vectors.hpp>

#include <sstream>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  if (size == 0) return 0;
  const unsigned char b = data[0];
  return fuzz::run([&] {
    static const std::vector<std::string> vocab{"<pad>", "the", "\xE2\x96\x81" "the", "\xC4\xA0" "cat", "Dog", "a b", "x"};
    const std::size_t cols = 1 + (b & 7);
    std::vector<float> matrix(vocab.size() * cols, 0.f);
    word_vector_options o;
    o.lowercase_fallback = b & 8;
    o.fill_missing = b & 16;
    std::istringstream in(std::string(fuzz::as_view(data + 1, size - 1)));
    const auto rep = load_word_vectors(in, vocab, matrix.data(), vocab.size(), cols, o, "fuzz.vec");
    fuzz::require(rep.dim == cols, "word vectors: dimension equals the embedding's");
    fuzz::require(rep.found + rep.missing == vocab.size(), "word vectors: every row counted once");
  });
}
