// Pretrained word vectors into a token embedding: a small hand-made file with a "count dim"
// header, a duplicate word, a word with a space and case variants; GloVe files without a header;
// and each malformed input (dimension mismatches, bad numbers, a short file) with its message.
#include <ctformer/data/tokenizers/sentencepiece.hpp>
#include <ctformer/data/word_vectors.hpp>
#include <ctformer/tensor/tensor.hpp>

#include "spm_test_util.hpp"

#include <sstream>

using namespace ctformer;
using namespace ctformer::testing;
using Catch::Contains;

namespace {

word_vector_report load_text(const std::string& text, const std::vector<std::string>& vocab, std::vector<float>& m,
                             std::size_t cols, const word_vector_options& opt = {}) {
  std::istringstream in(text);
  m.assign(vocab.size() * cols, -7.f);
  return load_word_vectors(in, vocab, m.data(), vocab.size(), cols, opt, "test.txt");
}

std::vector<float> row(const std::vector<float>& m, std::size_t r, std::size_t cols) {
  return {m.begin() + std::ptrdiff_t(r * cols), m.begin() + std::ptrdiff_t((r + 1) * cols)};
}

}  // namespace

TEST_CASE("word vectors: header, duplicates, multi-word entries, case fallback, missing rows", "[data]") {
  const std::vector<std::string> vocab{"<unk>", "\xE2\x96\x81the", "the", "King", "KING", "\xE2\x96\x81queen",
                                       "hello", "missing", "new york"};
  static tensor2<float, 9, 4> embedding;
  embedding.fill(-7.f);
  const auto rep = load_word_vectors(spm_fixture("word_vectors_small.txt"), vocab, view_of(embedding));
  CHECK(rep.dim == 4);
  CHECK(rep.file_vectors == 7);
  CHECK(rep.duplicates == 1);
  CHECK(rep.duplicate_words == std::vector<std::string>{"the"});
  CHECK(rep.found == 7);
  CHECK(rep.missing == 2);
  CHECK(rep.loaded == std::vector<std::uint8_t>{0, 1, 1, 1, 1, 1, 1, 0, 1});
  CHECK(rep.loaded_rows() == std::vector<std::size_t>{1, 2, 3, 4, 5, 6, 8});
  CHECK(rep.coverage() == Approx(7.0 / 9.0));
  const auto r = [&](std::size_t i) { return std::vector<float>(&embedding(i, 0), &embedding(i, 0) + 4); };
  CHECK(r(1) == std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f});  // "▁the": prefix stripped, first "the" kept
  CHECK(r(2) == r(1));
  CHECK(r(3) == std::vector<float>{2, 2, 2, 2});              // exact "King" beats lowercase "king"
  CHECK(r(4) == std::vector<float>{1, 0, 0, 0.5f});           // "KING" only matches lowercase "king"
  CHECK(r(5) == std::vector<float>{0, 1, 0, 0.5f});
  CHECK(r(6) == std::vector<float>{-1.5f, 0.25f, 3, 4});
  CHECK(r(8) == std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f});  // a word containing a space
  // Missing rows: normal(0, 0.02) from the seed, the same every time.
  for (std::size_t i : {0u, 7u})
    for (float x : r(i)) {
      CHECK(x != -7.f);
      CHECK(std::abs(x) < 0.1f);
    }
  static tensor2<float, 9, 4> again;
  load_word_vectors(spm_fixture("word_vectors_small.txt"), vocab, view_of(again));
  CHECK(std::equal(embedding.begin(), embedding.end(), again.begin()));
  // A caller-supplied initializer and no lowercase fallback.
  std::vector<float> m;
  word_vector_options opt;
  opt.lowercase_fallback = false;
  opt.init = [](std::size_t rowi, std::span<float> v) { std::fill(v.begin(), v.end(), float(rowi)); };
  const auto rep2 = load_text(read_bytes(spm_fixture("word_vectors_small.txt")), vocab, m, 4, opt);
  CHECK(rep2.found == 6);
  CHECK(row(m, 4, 4) == std::vector<float>{4, 4, 4, 4});
  CHECK(row(m, 7, 4) == std::vector<float>{7, 7, 7, 7});
}

TEST_CASE("word vectors: GloVe text without a header, and a tokenizer's vocabulary", "[data]") {
  std::vector<float> m;
  const auto rep = load_text("a 1 2\nb 3 4\r\n\nc 5 6\n", {"b", "z", "a"}, m, 2);
  CHECK(rep.dim == 2);
  CHECK(rep.file_vectors == 3);
  CHECK(rep.found == 2);
  CHECK(row(m, 0, 2) == std::vector<float>{3, 4});
  CHECK(row(m, 2, 2) == std::vector<float>{1, 2});
  // The vocabulary of a SentencePiece model: "▁the" finds "the".
  const auto tok = sentencepiece_tokenizer::load(spm_fixture("shakespeare_unigram1000_identity.model"));
  std::vector<float> emb(tok.vocab_size() * 4);
  const auto rep2 = load_word_vectors(spm_fixture("word_vectors_small.txt"), tok, emb.data(), tok.vocab_size(), 4);
  const std::size_t the = std::size_t(*tok.token_to_id("\xE2\x96\x81the"));
  CHECK(rep2.loaded[the] == 1);
  CHECK(row(emb, the, 4) == std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f});
  CHECK(rep2.found + rep2.missing == tok.vocab_size());
}

TEST_CASE("word vectors: dimension mismatches and malformed files fail with the line", "[data]") {
  std::vector<float> m;
  const std::vector<std::string> vocab{"a", "b"};
  CHECK_THROWS_WITH(load_text("2 3\na 1 2 3\nb 1 2\n", vocab, m, 3),
                    Contains("test.txt': line 3: 'b' has 2 values, expected 3 (dimension mismatch)"));
  CHECK_THROWS_WITH(load_text("a 1 2 3\nb 1 2 3 4\n", vocab, m, 3),
                    Contains("line 2: 'b' has 4 values, expected 3 (dimension mismatch)"));
  CHECK_THROWS_WITH(load_text("2 3\na 1 2 3\nb 1 2 3\n", vocab, m, 4),
                    Contains("the vectors have 3 components but the embedding has 4 columns (dimension mismatch)"));
  CHECK_THROWS_WITH(load_text("a 1 x 3\n", vocab, m, 3), Contains("line 1: value 2 of 'a' is not a number: 'x'"));
  CHECK_THROWS_WITH(load_text("5 3\na 1 2 3\n", vocab, m, 3),
                    Contains("the header promises 5 vectors but the file has 1 (truncated?)"));
  CHECK_THROWS_WITH(load_text("\n\n", vocab, m, 3), Contains("no vectors in the file"));
  CHECK_THROWS_WITH(load_text("a\n", vocab, m, 3), Contains("line 1: a word without values"));
  CHECK_THROWS_WITH(load_text("a 1 2 3\nb\xff 1 2 3\n", vocab, m, 3),
                    Contains("invalid UTF-8 at byte offset 1 in word vectors 'test.txt' line 2"));
  std::istringstream in("a 1\n");
  std::vector<float> small(3);
  CHECK_THROWS_WITH(load_word_vectors(in, vocab, small.data(), 3, 1), Contains("2 tokens but the embedding has 3 rows"));
  CHECK_THROWS_WITH(load_word_vectors(std::filesystem::path("/nonexistent.vec"), vocab, small.data(), 2, 1),
                    Contains("cannot open"));
}

TEST_CASE("word vectors: frozen rows stay fixed through an update", "[data]") {
  std::vector<float> m;
  const auto rep = load_text("a 1 2\nb 3 4\n", {"a", "x", "b"}, m, 2);
  const auto saved = snapshot_rows(m.data(), 2, rep.loaded);
  std::vector<float> grad(6, 1.f);
  freeze_rows(grad.data(), 2, rep.loaded);
  CHECK(grad == std::vector<float>{0, 0, 1, 1, 0, 0});
  // An optimizer step with decoupled weight decay moves every row; restoring puts the loaded back.
  const auto before_missing = row(m, 1, 2);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = m[i] * 0.9f - 0.1f * grad[i];
  restore_rows(m.data(), 2, rep.loaded, saved);
  CHECK(row(m, 0, 2) == std::vector<float>{1, 2});
  CHECK(row(m, 2, 2) == std::vector<float>{3, 4});
  CHECK(row(m, 1, 2) != before_missing);
}
