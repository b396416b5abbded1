// Tokenizer training: BPE on tinyshakespeare (requested size, deterministic, round trip,
// compression, save/load in GPT-2's format), WordPiece training, byte and char tokenizers.
#include <catch2/catch.hpp>

#include <ctformer/data/tokenizers/bpe.hpp>
#include <ctformer/data/tokenizers/byte.hpp>
#include <ctformer/data/tokenizers/char.hpp>
#include <ctformer/data/tokenizers/wordpiece.hpp>

#include "data_test_util.hpp"
#include "support/test_support.hpp"

#include <cstdio>

using namespace ctformer;
using ctformer::testing::temp_file;

TEST_CASE("BPE training on tinyshakespeare: size, determinism, round trip, compression", "[data]") {
  CTFORMER_REQUIRE_DATA(path, "tinyshakespeare/input.txt");
  const std::string text = read_text_file(path.string());
  bpe_train_options opt;
  opt.vocab_size = 1024;
  const auto a = bpe_tokenizer::train(text, opt);
  const auto b = bpe_tokenizer::train(text, opt);
  CHECK(a.vocab_size() == 1024);
  CHECK(a.merge_count() == 1024 - 256 - 1);
  CHECK(a.specials().eos == 1023);
  CHECK(a.encoder_json() == b.encoder_json());  // deterministic
  CHECK(a.merges_text() == b.merges_text());

  std::size_t lines = 0, ok = 0, tokens = 0, bytes = 0;
  for_each_line(text, [&](std::size_t, std::string_view line) {
    const auto ids = a.encode(line);
    ++lines;
    ok += a.decode(ids) == line;
    tokens += ids.size();
    bytes += line.size();
  });
  const double bytes_per_token = double(bytes) / double(tokens);
  std::printf("BPE training (vocab 1024) on tinyshakespeare: %zu/%zu lines round-trip, %.3f bytes per token\n", ok,
              lines, bytes_per_token);
  CHECK(ok == lines);
  CHECK(lines == 40000);
  // Bytes alone give 1.0 byte per token; the 767 merges learned here reach 2.56 (measured, and
  // deterministic). GPT-2's 50,000 merges reach about 3.5 on this text.
  CHECK(bytes_per_token > 2.5);
  CHECK(bytes_per_token < 2.65);

  // Save and load in GPT-2's two-file format: same ids.
  const std::string enc = temp_file("trained_encoder.json", a.encoder_json());
  const std::string mer = temp_file("trained_vocab.bpe", a.merges_text());
  const auto c = bpe_tokenizer::from_files(enc, mer);
  CHECK(c.vocab_size() == 1024);
  CHECK(c.specials().eos == 1023);
  const std::string sample = text.substr(5000, 3000);
  CHECK(c.encode(sample) == a.encode(sample));
  CHECK(c.merges_text() == a.merges_text());
}

TEST_CASE("BPE training stops at min_frequency and rejects bad options", "[data]") {
  bpe_train_options opt;
  opt.vocab_size = 5000;
  const auto t = bpe_tokenizer::train("aaaa bbbb aaaa", opt);
  CHECK(t.vocab_size() < 5000);
  CHECK(t.decode(t.encode("aaaa bbbb")) == "aaaa bbbb");
  CHECK_THROWS_WITH(bpe_tokenizer::train("", opt), "BPE training: empty corpus");
  opt.vocab_size = 100;
  CHECK_THROWS_WITH(bpe_tokenizer::train("abc", opt), "BPE training: vocab_size 100 is below the 256 byte tokens plus 1 specials");
  opt.vocab_size = 300;
  CHECK_THROWS_WITH(bpe_tokenizer::train("ab\xFF", opt),
                    "invalid UTF-8 at byte offset 2 in BPE training corpus (byte 0xFF)");
}

TEST_CASE("BPE vocabulary files: duplicates, unknown tokens, empty files", "[data]") {
  // A tiny valid vocabulary: the 256 bytes, one merge "a b" -> "ab".
  auto base_vocab = [] {
    std::vector<std::string> toks;
    for (std::uint8_t b : gpt2::bytes_to_unicode().byte_order) toks.push_back(gpt2::bytes_to_token(std::string(1, char(b))));
    return toks;
  };
  auto encoder = [](const std::vector<std::string>& toks) {
    std::string s = "{";
    for (std::size_t i = 0; i < toks.size(); ++i) {
      if (i) s += ",";
      json::write_string(s, toks[i]);
      s += ':';
      s += std::to_string(i);
    }
    return s + "}";
  };
  auto toks = base_vocab();
  toks.push_back("ab");
  const auto ok = bpe_tokenizer::from_strings(encoder(toks), "#version: 0.2\na b\n");
  CHECK(ok.encode("abc") == std::vector<std::int32_t>{256, *ok.token_to_id("c")});

  auto dup = toks;
  dup.push_back("ab");
  CHECK_THROWS_WITH(bpe_tokenizer::from_strings(encoder(dup), "a b\n"),
                    "encoder.json: duplicate token \"ab\" (ids 256 and 257)");
  CHECK_THROWS_WITH(bpe_tokenizer::from_strings(encoder(toks), "#version: 0.2\na b\na b\n"),
                    "vocab.bpe line 3: duplicate merge \"a b\" (first on line 2)");
  CHECK_THROWS_WITH(bpe_tokenizer::from_strings(encoder(toks), "#version: 0.2\na c\n"),
                    "vocab.bpe line 2: merged token \"ac\" is not in encoder.json");
  CHECK_THROWS_WITH(bpe_tokenizer::from_strings(encoder(toks), "#version: 0.2\nab\n"),
                    "vocab.bpe line 2: expected two tokens separated by one space, found \"ab\"");
  CHECK_THROWS_WITH(bpe_tokenizer::from_strings("{\"a\": 0, \"b\": 0}", "a b\n"),
                    "encoder.json: duplicate id 0 (tokens \"a\" and \"b\")");
  CHECK_THROWS_WITH(bpe_tokenizer::from_strings("{\"a\": 0}", ""), "'vocab.bpe' is an empty file");
  CHECK_THROWS_WITH(bpe_tokenizer::from_strings("", "a b\n"), "'encoder.json' is an empty file");
  CHECK_THROWS_WITH(bpe_tokenizer::from_strings("{\"a\": 0", "a b\n"),
                    Catch::Matchers::StartsWith("encoder.json: json: expected ',' or '}' at line 1"));
  const std::string empty_path = temp_file("empty_vocab.bpe", "");
  CHECK_THROWS_WITH(bpe_tokenizer::from_files(temp_file("enc.json", encoder(toks)), empty_path),
                    "'" + empty_path + "' is an empty file");
}

TEST_CASE("WordPiece training learns a vocabulary that covers the corpus", "[data]") {
  CTFORMER_REQUIRE_DATA(path, "tinyshakespeare/input.txt");
  const std::string text = read_text_file(path.string()).substr(0, 300000);
  wordpiece_train_options opt;
  opt.vocab_size = 800;
  const auto a = wordpiece_tokenizer::train(text, opt);
  const auto b = wordpiece_tokenizer::train(text, opt);
  CHECK(a.vocab_size() == 800);
  CHECK(a.vocab_text() == b.vocab_text());
  CHECK(a.specials().pad == 0);
  CHECK(a.specials().unk == 1);
  CHECK(a.specials().cls == 2);
  CHECK(a.specials().mask == 4);
  // Every word of the corpus segments without [UNK], and pieces rebuild the words.
  std::size_t words = 0, unk = 0, pieces = 0;
  a.for_each_word(text, [&](std::string_view w, std::size_t) {
    ++words;
    const auto ids = a.encode(w);
    pieces += ids.size();
    for (auto id : ids) unk += id == a.specials().unk;
    CHECK(a.decode(ids) == w);
  });
  std::printf("WordPiece training (vocab 800): %zu words, %zu [UNK], %.3f pieces per word\n", words, unk,
              double(pieces) / double(words));
  CHECK(unk == 0);
  CHECK(double(pieces) / double(words) < 2.0);
  CHECK(a.tokenize("the king") == std::vector<std::string>{"the", "king"});
  // Saved and reloaded, the vocabulary encodes the same.
  const auto c = wordpiece_tokenizer::from_file(temp_file("trained_vocab.txt", a.vocab_text()));
  CHECK(c.encode(text.substr(0, 5000)) == a.encode(text.substr(0, 5000)));
  CHECK_THROWS_WITH(wordpiece_tokenizer::train("", opt), "WordPiece training: empty corpus");
  CHECK_THROWS_WITH(wordpiece_tokenizer::train(" \n\t ", opt), "WordPiece training: empty corpus (no words after normalization)");
}

TEST_CASE("WordPiece vocabulary files: duplicates, empty files, missing [UNK]", "[data]") {
  CHECK_THROWS_WITH(wordpiece_tokenizer::from_string("[UNK]\nhello\nworld\nhello\n"),
                    "vocab.txt: duplicate token \"hello\" on lines 2 and 4");
  CHECK_THROWS_WITH(wordpiece_tokenizer::from_string(""), "'vocab.txt' is an empty file");
  CHECK_THROWS_WITH(wordpiece_tokenizer::from_string("[UNK]\n\nx\n"), "vocab.txt line 2: empty token");
  CHECK_THROWS_WITH(wordpiece_tokenizer::from_string("[UNK]\nab\xc3\n"),
                    Catch::Contains("invalid UTF-8 at byte offset 2 in vocab.txt line 2"));
  CHECK_THROWS_WITH(wordpiece_tokenizer::from_string("hello\n"), "vocab.txt: the vocabulary has no unknown token \"[UNK]\"");
  const std::string p = temp_file("empty_vocab.txt", "");
  CHECK_THROWS_WITH(wordpiece_tokenizer::from_file(p), "'" + p + "' is an empty file");
  CHECK_THROWS_WITH(wordpiece_tokenizer::from_file("/nonexistent/vocab.txt"), "cannot open file '/nonexistent/vocab.txt'");
  const auto t = wordpiece_tokenizer::from_string("[PAD]\n[UNK]\nun\n##aff\n##able\n,\n");
  CHECK(t.tokenize("unaffable, unknown") == std::vector<std::string>{"un", "##aff", "##able", ",", "[UNK]"});
  CHECK(t.decode(t.encode("unaffable, unknown")) == "unaffable ,");
  CHECK(t.decode(t.encode("unaffable, unknown"), true) == "unaffable , [UNK]");
  CHECK_THROWS_WITH(t.encode("caf\xC3"), "invalid UTF-8 at byte offset 3 in WordPiece input (byte 0xC3)");
  wordpiece_options repl;
  repl.on_invalid = utf8::on_invalid::replace;
  const auto r = wordpiece_tokenizer::from_string("[UNK]\nun\n", "v", repl);
  CHECK(r.tokenize("un\xC3 un") == std::vector<std::string>{"un", "un"});  // U+FFFD is dropped, as BERT does
}

TEST_CASE("byte tokenizer: 256 ids plus specials, lossless round trip", "[data]") {
  const byte_tokenizer t;
  CHECK(t.vocab_size() == 256 + 7);
  CHECK(t.specials().pad == 256);
  CHECK(t.specials().unk == 257);
  CHECK(t.specials().cls == 258);
  CHECK(t.specials().sep == 259);
  CHECK(t.specials().mask == 260);
  CHECK(t.specials().bos == 261);
  CHECK(t.specials().eos == 262);
  const std::string s = "h\xC3\xA9llo \xF0\x9F\x98\x80";
  const auto ids = t.encode(s);
  CHECK(ids.size() == s.size());
  CHECK(ids[1] == 0xC3);
  CHECK(t.decode(ids) == s);
  std::vector<std::int32_t> with = {261, 104, 105, 262};
  CHECK(t.decode(with) == "hi");
  CHECK(t.decode(with, true) == "<BOS>hi<EOS>");
  CHECK_THROWS_WITH(t.encode("ab\x80"), "invalid UTF-8 at byte offset 2 in byte tokenizer input (byte 0x80)");
  const byte_tokenizer r({"<PAD>"}, utf8::on_invalid::replace);
  CHECK(r.encode("a\x80") == std::vector<std::int32_t>{'a', 0xEF, 0xBF, 0xBD});
  CHECK_THROWS_WITH(byte_tokenizer({"<PAD>", "<PAD>"}), "byte tokenizer: special token \"<PAD>\" is listed twice");
}

TEST_CASE("char tokenizer: vocabulary from a corpus", "[data]") {
  CTFORMER_REQUIRE_DATA(path, "tinyshakespeare/input.txt");
  const std::string text = read_text_file(path.string());
  const auto t = char_tokenizer::build(text, {});
  CHECK(t.vocab_size() == 65);  // the README's alphabet size
  CHECK(t.decode(t.encode(text)) == text);
  CHECK_THROWS_WITH(t.encode("a\xC3\xA9"), "char tokenizer: character U+00E9 at byte offset 1 is not in the vocabulary");
  const auto u = char_tokenizer::build("h\xC3\xA9llo");
  CHECK(u.vocab_size() == 4 + 7);
  CHECK(u.encode("\xC3\xA9h") == std::vector<std::int32_t>{3, 0});
  CHECK(u.encode("x") == std::vector<std::int32_t>{u.specials().unk});
  CHECK(char_tokenizer::from_json(u.to_json()).encode("hello") == u.encode("hello"));
  CHECK_THROWS_WITH(char_tokenizer::build(""), "char tokenizer: empty corpus");
  CHECK_THROWS_WITH(char_tokenizer::build("ab\xE2\x82"), "invalid UTF-8 at byte offset 2 in char tokenizer corpus (byte 0xE2)");
}
