// BERT uncased WordPiece: exact parity (tokens, ids, ids with [CLS]/[SEP]) on the shared fixtures,
// the README's examples, training, and bad vocabulary files.
#include <catch2/catch.hpp>

#include <ctformer/data/tokenizers/wordpiece.hpp>

#include "data_test_util.hpp"
#include "support/test_support.hpp"

#include <cstdio>

using namespace ctformer;
using ctformer::testing::ints;
using ctformer::testing::read_jsonl;

TEST_CASE("BERT WordPiece matches every line of parity_public.jsonl", "[data][parity]") {
  CTFORMER_REQUIRE_DATA(vocab, "bert-wordpiece/vocab.txt");
  CTFORMER_REQUIRE_DATA(fixture, "bert-wordpiece/parity_public.jsonl");
  const auto tok = wordpiece_tokenizer::from_file(vocab.string());
  CHECK(tok.vocab_size() == 30522);
  CHECK(tok.specials().pad == 0);
  CHECK(tok.specials().unk == 100);
  CHECK(tok.specials().cls == 101);
  CHECK(tok.specials().sep == 102);
  CHECK(tok.specials().mask == 103);
  CHECK(tok.encode("unbelievable") == std::vector<std::int32_t>{23653});
  CHECK(tok.tokenize("John Johanson's house") == std::vector<std::string>{"john", "johan", "##son", "'", "s", "house"});
  CHECK(tok.tokenize("unaffable") == std::vector<std::string>{"una", "##ffa", "##ble"});
  CHECK(tok.tokenize("Hello, World! H\u00e9llo w\u00f6rld") ==
        std::vector<std::string>{"hello", ",", "world", "!", "hello", "world"});
  const auto rows = read_jsonl(fixture);
  std::size_t tokens_ok = 0, ids_ok = 0, special_ok = 0;
  for (const auto& row : rows) {
    const std::string& text = row.at("text").as_string();
    std::vector<std::string> want_tokens;
    for (const auto& t : row.at("tokens").as_array()) want_tokens.push_back(t.as_string());
    const auto ids = tok.encode(text);
    if (tok.tokenize(text) == want_tokens) ++tokens_ok;
    else FAIL_CHECK("tokens differ for: " << text);
    if (ids == ints(row.at("ids"))) ++ids_ok;
    std::vector<std::int32_t> with = {tok.specials().cls};
    with.insert(with.end(), ids.begin(), ids.end());
    with.push_back(tok.specials().sep);
    if (with == ints(row.at("ids_with_special"))) ++special_ok;
  }
  std::printf("BERT parity: %zu/%zu tokens, %zu/%zu ids, %zu/%zu ids_with_special\n", tokens_ok, rows.size(), ids_ok,
              rows.size(), special_ok, rows.size());
  CHECK(rows.size() == 315);
  CHECK(tokens_ok == rows.size());
  CHECK(ids_ok == rows.size());
  CHECK(special_ok == rows.size());
}
