// GPT-2 byte-level BPE: exact parity with the shared fixtures, the two merge algorithms agree,
// training (size, determinism, round trip, compression), save/load, and bad vocabulary files.
#include <catch2/catch.hpp>

#include <ctformer/data/tokenizers/bpe.hpp>

#include "data_test_util.hpp"
#include "support/test_support.hpp"

#include <cstdio>
#include <random>

using namespace ctformer;
using ctformer::testing::ints;
using ctformer::testing::read_jsonl;
using ctformer::testing::temp_file;

namespace {
const bpe_tokenizer* gpt2_tokenizer() {
  static const std::unique_ptr<bpe_tokenizer> tok = [] {
    const auto dir = ctformer::testing::data_file("gpt2-bpe/encoder.json");
    if (dir.empty()) return std::unique_ptr<bpe_tokenizer>();
    return std::make_unique<bpe_tokenizer>(bpe_tokenizer::from_dir(dir.parent_path().string()));
  }();
  return tok.get();
}
}  // namespace

TEST_CASE("GPT-2 BPE matches every line of parity_public.jsonl", "[data][parity]") {
  CTFORMER_REQUIRE_DATA(fixture, "gpt2-bpe/parity_public.jsonl");
  const bpe_tokenizer& tok = *gpt2_tokenizer();
  CHECK(tok.vocab_size() == 50257);
  CHECK(tok.merge_count() == 50000);
  CHECK(tok.specials().eos == 50256);
  CHECK(tok.encode("Hello world") == std::vector<std::int32_t>{15496, 995});
  CHECK(tok.encode("  ") == std::vector<std::int32_t>{220, 220});
  const auto rows = read_jsonl(fixture);
  std::size_t ids_ok = 0, roundtrip_ok = 0;
  for (int pass = 0; pass < 2; ++pass) {  // pass 1 hits the piece cache filled by pass 0
    ids_ok = roundtrip_ok = 0;
    for (const auto& row : rows) {
      const std::string& text = row.at("text").as_string();
      const auto want = ints(row.at("ids"));
      const auto got = tok.encode(text);
      if (got == want) ++ids_ok;
      else FAIL_CHECK("ids differ for: " << text);
      if (tok.decode(got) == text) ++roundtrip_ok;
      else FAIL_CHECK("decode differs for: " << text);
    }
  }
  std::printf("GPT-2 parity: %zu/%zu lines give the recorded ids, %zu/%zu decode back to the text\n", ids_ok,
              rows.size(), roundtrip_ok, rows.size());
  CHECK(rows.size() == 315);
  CHECK(ids_ok == rows.size());
  CHECK(roundtrip_ok == rows.size());
}

TEST_CASE("BPE heap merging equals GPT-2's pass-per-rank merging", "[data][parity]") {
  CTFORMER_REQUIRE_DATA(shakespeare, "tinyshakespeare/input.txt");
  const bpe_tokenizer& tok = *gpt2_tokenizer();
  const std::string text = read_text_file(shakespeare.string());
  std::mt19937 rng(11);
  const std::string alphabet = "abcdeeeeetttnnnsshhrrllooiiuu";
  std::size_t checked = 0;
  for (int k = 0; k < 400; ++k) {
    std::string piece;
    if (k % 2 == 0) {  // real text with spaces removed, long enough for the heap path
      const std::size_t at = rng() % (text.size() - 300);
      for (char c : text.substr(at, 70 + rng() % 200))
        if (c != ' ' && c != '\n') piece.push_back(c);
    } else {
      for (std::size_t i = 0, n = 1 + rng() % 150; i < n; ++i) piece.push_back(alphabet[rng() % alphabet.size()]);
    }
    std::vector<std::int32_t> a, b;
    tok.merge_piece_reference(piece, a);
    tok.merge_piece_heap(piece, b);
    CHECK(a == b);
    ++checked;
  }
  CHECK(checked == 400);
}

TEST_CASE("BPE rejects or repairs invalid UTF-8 as chosen", "[data]") {
  CTFORMER_REQUIRE_DATA(enc, "gpt2-bpe/encoder.json");
  bpe_tokenizer tok = bpe_tokenizer::from_dir(enc.parent_path().string());
  CHECK_THROWS_WITH(tok.encode("ok \xC3("), "invalid UTF-8 at byte offset 3 in BPE input (byte 0xC3)");
  tok.set_on_invalid(utf8::on_invalid::replace);
  CHECK(tok.decode(tok.encode("ok \xC3(")) == "ok \xEF\xBF\xBD(");
}
