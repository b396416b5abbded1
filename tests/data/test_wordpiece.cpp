// BERT uncased WordPiece: exact parity (tokens, ids, ids with [CLS]/[SEP]) on the shared fixtures,
// the README's examples, training, and bad vocabulary files.
#include <catch2/catch.hpp>

#include <ctformer/data/encode.hpp>
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
  const auto bert = sequence_template::bert(tok.specials());
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
    const auto with = apply_template(ids, std::nullopt, bert, ids.size() + 2);
    if (with.ids == ints(row.at("ids_with_special"))) ++special_ok;
  }
  std::printf("BERT parity: %zu/%zu tokens, %zu/%zu ids, %zu/%zu ids_with_special\n", tokens_ok, rows.size(), ids_ok,
              rows.size(), special_ok, rows.size());
  CHECK(rows.size() == 315);
  CHECK(tokens_ok == rows.size());
  CHECK(ids_ok == rows.size());
  CHECK(special_ok == rows.size());
}

TEST_CASE("WordPiece basic tokenizer: controls, CJK, accents, punctuation, long words", "[data]") {
  const auto t = wordpiece_tokenizer::from_string("[UNK]\n[CLS]\n[SEP]\n");
  CHECK(t.basic_tokenize("a\x01" "b\xE2\x80\x8B" "c\tD\xC3\xA9j\xC3\xA0 vu!") ==
        std::vector<std::string>{"abc", "deja", "vu", "!"});
  CHECK(t.basic_tokenize("\xE4\xB8\xAD\xE6\x96\x87" "ab") == std::vector<std::string>{"\xE4\xB8\xAD", "\xE6\x96\x87", "ab"});
  CHECK(t.basic_tokenize("\xC4\xB0stanbul") == std::vector<std::string>{"istanbul"});
  CHECK(t.basic_tokenize("x\xE2\x80\xA8y\xC2\xA0z") == std::vector<std::string>{"x", "y", "z"});  // Zl and Zs split
  CHECK(t.basic_tokenize("a$b^c`d") == std::vector<std::string>{"a", "$", "b", "^", "c", "`", "d"});
  CHECK(t.basic_tokenize("\xC2\xBFqu\xC3\xA9?") == std::vector<std::string>{"\xC2\xBF", "que", "?"});
  const std::string long_word(101, 'a');
  CHECK(t.encode(long_word) == std::vector<std::int32_t>{0});
}
