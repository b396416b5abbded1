// Special-token templates, truncation (longest-first for pairs), padding to the compile-time
// length, attention masks and token types, written into the batch structs.
#include <catch2/catch.hpp>

#include <ctformer/data/datasets.hpp>
#include <ctformer/data/encode.hpp>
#include <ctformer/data/tokenizers/byte.hpp>
#include <ctformer/data/tokenizers/wordpiece.hpp>

#include "support/test_support.hpp"

using namespace ctformer;
using ids_t = std::vector<std::int32_t>;

TEST_CASE("templates: BERT single and pair with token types", "[data]") {
  special_tokens s;
  s.cls = 101;
  s.sep = 102;
  const auto t = sequence_template::bert(s);
  const ids_t a = {1, 2, 3}, b = {7, 8};
  auto e = apply_template(a, std::nullopt, t, 16);
  CHECK(e.ids == ids_t{101, 1, 2, 3, 102});
  CHECK(e.token_type == ids_t{0, 0, 0, 0, 0});
  e = apply_template(a, std::span<const std::int32_t>(b), t, 16);
  CHECK(e.ids == ids_t{101, 1, 2, 3, 102, 7, 8, 102});
  CHECK(e.token_type == ids_t{0, 0, 0, 0, 0, 1, 1, 1});
  CHECK_THROWS_WITH(sequence_template::bert(special_tokens{}), "BERT template: the tokenizer has no [CLS] or [SEP] token");
  special_tokens g;
  g.bos = g.eos = 50256;
  CHECK(apply_template(a, std::nullopt, sequence_template::gpt(g), 8).ids == ids_t{50256, 1, 2, 3, 50256});
}

TEST_CASE("truncation: longest-first for pairs, second side on ties", "[data]") {
  CHECK(truncated_lengths(10, 4, true, 8, truncation::longest_first) == std::pair<std::size_t, std::size_t>{4, 4});
  CHECK(truncated_lengths(10, 4, true, 7, truncation::longest_first) == std::pair<std::size_t, std::size_t>{4, 3});
  CHECK(truncated_lengths(5, 5, true, 7, truncation::longest_first) == std::pair<std::size_t, std::size_t>{4, 3});
  CHECK(truncated_lengths(3, 9, true, 10, truncation::longest_first) == std::pair<std::size_t, std::size_t>{3, 7});
  CHECK(truncated_lengths(10, 4, true, 8, truncation::only_first) == std::pair<std::size_t, std::size_t>{4, 4});
  CHECK(truncated_lengths(4, 10, true, 8, truncation::only_second) == std::pair<std::size_t, std::size_t>{4, 4});
  CHECK(truncated_lengths(9, 0, false, 5, truncation::longest_first) == std::pair<std::size_t, std::size_t>{5, 0});
  CHECK_THROWS_WITH(truncated_lengths(9, 0, false, 5, truncation::none),
                    "encode: 9 tokens do not fit the sequence length (room for 5 after special tokens) and truncation is off");
  // Brute force: the closed form equals removing one token at a time.
  for (std::size_t la = 0; la < 12; ++la)
    for (std::size_t lb = 0; lb < 12; ++lb)
      for (std::size_t budget = 0; budget < 20; ++budget) {
        std::size_t x = la, y = lb;
        while (x + y > budget) (x > y ? x : y) -= 1;
        CHECK(truncated_lengths(la, lb, true, budget, truncation::longest_first) == std::pair{x, y});
      }
}

TEST_CASE("fixed-shape encoding pads to S with an attention mask", "[data]") {
  CTFORMER_REQUIRE_DATA(vocab, "bert-wordpiece/vocab.txt");
  const auto tok = wordpiece_tokenizer::from_file(vocab.string());
  encode_options o;
  o.tmpl = sequence_template::bert(tok.specials());
  const auto e = encode_fixed<8>(tok, "unaffable", o);
  CHECK(std::vector<std::int32_t>(e.ids.begin(), e.ids.end()) == ids_t{101, 14477, 20961, 3468, 102, 0, 0, 0});
  CHECK(std::vector<std::int32_t>(e.attention_mask.begin(), e.attention_mask.end()) == ids_t{1, 1, 1, 1, 1, 0, 0, 0});
  CHECK(e.length == 5);
  const auto p = encode_pair_fixed<8>(tok, "hello world how are you", "fine thanks", o);
  CHECK(std::vector<std::int32_t>(p.ids.begin(), p.ids.end()) == ids_t{101, 7592, 2088, 2129, 102, 2986, 4283, 102});
  CHECK(std::vector<std::int32_t>(p.token_type.begin(), p.token_type.end()) == ids_t{0, 0, 0, 0, 0, 1, 1, 1});
  CHECK(p.truncated == 2);  // 5 + 2 tokens into 5: "are you" goes
  // Into a classification batch: the second row is a padding row.
  static classification_batch<2, 8> batch;
  const std::vector<fixed_encoding<8>> rows = {e, p};
  const std::vector<std::int32_t> labels = {1, 0};
  batch_rows<2> br;
  br.index = {1, 0};
  br.count = 1;
  fill_batch(batch, std::span<const fixed_encoding<8>>(rows), std::span<const std::int32_t>(labels), br);
  CHECK(batch.ids(0, 5) == 2986);
  CHECK(batch.token_type(0, 5) == 1);
  CHECK(batch.labels(0) == 0);
  CHECK(batch.labels(1) == ignore_index);
  CHECK(batch.attention_mask(1, 0) == 0);
}

TEST_CASE("encoding uses the tokenizer's pad, else eos", "[data]") {
  const byte_tokenizer t;
  const auto e = encode_fixed<6>(t, "hi", {sequence_template::gpt(t.specials())});
  CHECK(std::vector<std::int32_t>(e.ids.begin(), e.ids.end()) == ids_t{261, 'h', 'i', 262, 256, 256});
  const byte_tokenizer no_pad({"<EOS>"});
  CHECK(encode_fixed<3>(no_pad, "a").ids[2] == 256);
  CHECK_THROWS_WITH(encode_fixed<1>(t, "a", {sequence_template::gpt(t.specials())}),
                    "encode: the template's 2 special tokens exceed the sequence length 1");
}
