// The .model reader and writer: round trips, and one clear error for each kind of bad input
// (truncation at every byte, corrupt varints, unknown and wrong wire types, bad enum values,
// inconsistent pieces, broken charsmaps).
#include <ctformer/data/tokenizers/sentencepiece.hpp>

#include "spm_test_util.hpp"

using namespace ctformer;
using namespace ctformer::testing;
using Catch::Contains;

namespace {

std::string varint(std::uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(char((v & 0x7F) | 0x80));
    v >>= 7;
  }
  s.push_back(char(v));
  return s;
}
std::string tag(std::uint32_t field, std::uint32_t wire) { return varint((std::uint64_t(field) << 3) | wire); }
std::string bytes_field(std::uint32_t field, std::string_view body) {
  return tag(field, 2) + varint(body.size()) + std::string(body);
}

// A minimal valid model: <unk> plus the pieces given, with both specs.
std::string tiny_model(const std::string& extra_pieces = "", const std::string& trainer_extra = "",
                       const std::string& normalizer = bytes_field(1, "identity")) {
  std::string m = bytes_field(1, bytes_field(1, "<unk>") + tag(3, 0) + varint(2));
  m += bytes_field(1, bytes_field(1, "a") + tag(2, 5) + std::string("\x00\x00\x80\xbf", 4));  // score -1
  m += extra_pieces;
  m += bytes_field(2, tag(3, 0) + varint(1) + trainer_extra);
  m += bytes_field(3, normalizer);
  return m;
}

}  // namespace

TEST_CASE("spm model: fixtures parse, and serialize round-trips", "[io][data]") {
  for (const auto& name : spm_fixture_models()) {
    const std::string bytes = read_bytes(spm_fixture(name + ".model"));
    const auto m = spm::parse_model(bytes, name);
    const std::string again = spm::serialize_model(m);
    const auto m2 = spm::parse_model(again, name + " (re-serialized)");
    REQUIRE(m2.pieces.size() == m.pieces.size());
    for (std::size_t i = 0; i < m.pieces.size(); ++i) {
      CHECK(m2.pieces[i].piece == m.pieces[i].piece);
      CHECK(m2.pieces[i].score == m.pieces[i].score);
      CHECK(m2.pieces[i].type == m.pieces[i].type);
    }
    CHECK(m2.trainer.vocab_size == m.trainer.vocab_size);
    CHECK(m2.trainer.pad_id == -1);
    CHECK(m2.trainer.byte_fallback == m.trainer.byte_fallback);
    CHECK(m2.normalizer.name == m.normalizer.name);
    CHECK(m2.normalizer.precompiled_charsmap == m.normalizer.precompiled_charsmap);
    CHECK(m2.normalizer.remove_extra_whitespaces == m.normalizer.remove_extra_whitespaces);
    CHECK(spm::serialize_model(m2) == again);
    // The re-serialized model encodes like the original.
    const auto a = sentencepiece_tokenizer(m), b = sentencepiece_tokenizer::from_serialized(again);
    for (const auto& line : split_lines(read_bytes(spm_fixture("text_edge.txt")))) CHECK(a.encode(line) == b.encode(line));
  }
  const auto m = spm::load_model(spm_fixture("french_bpe1000_identity.model"));
  CHECK(m.trainer.type == spm::model_type::bpe);
  CHECK(m.trainer.byte_fallback);
  CHECK(m.trainer.split_digits);
  CHECK_FALSE(m.normalizer.remove_extra_whitespaces);
  CHECK(m.normalizer.add_dummy_prefix);
  CHECK(m.trainer.unk_id == 0);
  CHECK(m.trainer.bos_id == 1);
  CHECK(m.trainer.eos_id == 2);
  CHECK(m.trainer.unk_surface == " \xE2\x81\x87 ");
}

TEST_CASE("spm model: a file cut at any byte fails and says it is truncated", "[io][data]") {
  const std::string bytes = read_bytes(spm_fixture("shakespeare_unigram1000_identity.model"));
  std::size_t cuts = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("cut at " << n << " of " << bytes.size());
    CHECK_THROWS_WITH(spm::parse_model(std::string_view(bytes).substr(0, n), "cut.model"),
                      Contains("truncated") && Contains("cut.model"));
    ++cuts;
  }
  CHECK(cuts == bytes.size());
  CHECK_THROWS_WITH(spm::parse_model(bytes.substr(0, 100), "cut.model"),
                    Contains("truncated field 1 (pieces): length") && Contains("in ModelProto)"));
  CHECK_THROWS_WITH(spm::parse_model(""), Contains("no trainer_spec after 0 pieces (truncated file?)"));
}

TEST_CASE("spm model: corrupt varints, unknown and wrong wire types, bad enums", "[io][data]") {
  REQUIRE_NOTHROW(spm::parse_model(tiny_model()));
  // A varint with eleven bytes, and one whose tenth byte overflows 64 bits.
  CHECK_THROWS_WITH(spm::parse_model(tag(1, 2) + std::string(10, '\xFF') + "\x01"),
                    Contains("corrupt varint") && Contains("byte offset 1"));
  CHECK_THROWS_WITH(spm::parse_model(tag(1, 2) + std::string(9, '\xFF') + "\x02"), Contains("corrupt varint (more than 64 bits)"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model() + tag(9, 6)), Contains("unknown wire type 6 for field 9"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model() + tag(9, 7)), Contains("unknown wire type 7 for field 9"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model() + tag(9, 3)), Contains("deprecated group wire type 3"));
  CHECK_THROWS_WITH(spm::parse_model(tag(0, 0) + varint(1) + tiny_model()), Contains("invalid field number 0"));
  // Known fields with the wrong wire type.
  CHECK_THROWS_WITH(spm::parse_model(tag(1, 0) + varint(5) + tiny_model()),
                    Contains("field 1 (pieces) has wire type 0 (varint), expected 2 (length-delimited)") &&
                        Contains("in ModelProto"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model("", bytes_field(4, "8000"))),
                    Contains("field 4 (vocab_size) has wire type 2 (length-delimited), expected 0 (varint)") &&
                        Contains("ModelProto.trainer_spec"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "b") + tag(2, 0) + varint(1)))),
                    Contains("field 2 (score) has wire type 0 (varint), expected 5 (32-bit)") &&
                        Contains("ModelProto.pieces[2]"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model("", "", tag(3, 5) + "abcd")),
                    Contains("field 3 (add_dummy_prefix) has wire type 5 (32-bit), expected 0 (varint)"));
  // Enum values outside the proto's.
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "b") + tag(3, 0) + varint(9)))),
                    Contains("unknown piece type 9"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model("", tag(3, 0) + varint(7))), Contains("unknown model_type 7"));
  // Truncated 32-bit and 64-bit fields inside a message.
  CHECK_THROWS_WITH(spm::parse_model(bytes_field(1, bytes_field(1, "b") + tag(2, 5) + "ab")),
                    Contains("truncated 32-bit field"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model() + tag(9, 1) + "abc"), Contains("truncated 64-bit field"));
  // Unknown fields with valid wire types are skipped, as protobuf does.
  const auto m = spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "b") + tag(77, 0) + varint(3)),
                                             tag(99, 1) + std::string(8, 'x')) +
                                  tag(100, 5) + "wxyz" + bytes_field(101, "future"));
  CHECK(m.pieces.size() == 3);
  CHECK(m.pieces[2].piece == "b");
}

TEST_CASE("spm model: inconsistent pieces and broken charsmaps", "[io][data]") {
  const std::string unk_only = bytes_field(1, bytes_field(1, "x"));
  CHECK_THROWS_WITH(spm::parse_model(unk_only + bytes_field(2, "") + bytes_field(3, "")),
                    Contains("no UNKNOWN piece"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "a")))),
                    Contains("piece 'a' (id 2) is defined twice"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "<u>") + tag(3, 0) + varint(2)))),
                    Contains("two UNKNOWN pieces"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "")))), Contains("piece 2 is empty"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, std::string("a\0b", 3))))),
                    Contains("contains a NUL byte"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "<0x41>") + tag(3, 0) + varint(6)))),
                    Contains("byte piece '<0x41>' (id 2) although byte_fallback is false"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "<0x41>") + tag(3, 0) + varint(6)),
                                                tag(35, 0) + varint(1))),
                    Contains("byte piece <0x00> is missing"));
  CHECK_THROWS_WITH(spm::parse_model(tiny_model(bytes_field(1, bytes_field(1, "<0xZZ>") + tag(3, 0) + varint(6)),
                                                tag(35, 0) + varint(1))),
                    Contains("not of the form <0xHH>"));
  // The charsmap blob: too short, a trie larger than the blob, strings without their NUL.
  const auto with_map = [](std::string blob) {
    return tiny_model("", "", bytes_field(1, "nmt_nfkc") + bytes_field(2, blob));
  };
  CHECK_THROWS_WITH(sentencepiece_tokenizer::from_serialized(with_map("abc")), Contains("too short"));
  CHECK_THROWS_WITH(sentencepiece_tokenizer::from_serialized(with_map(std::string("\xFF\x00\x00\x00", 4) + "xxxx")),
                    Contains("trie size 255 exceeds the 4 bytes after the 4-byte header (blob size 8)"));
  CHECK_THROWS_WITH(sentencepiece_tokenizer::from_serialized(with_map(std::string("\x04\x00\x00\x00", 4) + "xxxxab")),
                    Contains("do not end with a NUL byte"));
  std::string far(4, '\0');
  far[0] = 8;
  far += std::string("\x00\x04\x00\x00", 4) + std::string("\x50\x00\x00\x80", 4) + std::string("a\0", 2);
  CHECK_THROWS_WITH(sentencepiece_tokenizer::from_serialized(with_map(far)), Contains("points at offset 80 past the 2 bytes"));
  // Model types the tokenizer does not implement, and files that are not there.
  CHECK_THROWS_WITH(sentencepiece_tokenizer::from_serialized(tiny_model("", tag(3, 0) + varint(3))),
                    Contains("model type WORD is not supported"));
  CHECK_THROWS_WITH(spm::load_model("/nonexistent/x.model"), Contains("cannot open the file"));
}

TEST_CASE("spm tokenizer: interface, specials and decoding errors", "[data]") {
  const auto tok = sentencepiece_tokenizer::load(spm_fixture("shakespeare_unigram1000_bytes.model"));
  CHECK(tok.vocab_size() == 1000);
  CHECK(tok.specials().unk == 0);
  CHECK(tok.specials().bos == 1);
  CHECK(tok.specials().eos == 2);
  CHECK(tok.specials().pad == -1);
  CHECK(tok.specials().mask == *tok.token_to_id("<mask>"));
  CHECK(tok.specials().sep == *tok.token_to_id("[SEP]"));
  CHECK(tok.id_to_token(1) == "<s>");
  CHECK(tok.token_to_id("<0x41>").has_value());
  CHECK_FALSE(tok.token_to_id("no such piece").has_value());
  CHECK(tok.piece_type(*tok.token_to_id("<2fr>")) == spm::piece_type::control);
  // User-defined symbols are kept whole; unknown characters fall back to bytes.
  const auto ids = tok.encode("a <mask> é");
  CHECK(std::count(ids.begin(), ids.end(), *tok.token_to_id("<mask>")) == 1);
  CHECK(std::count(ids.begin(), ids.end(), *tok.token_to_id("<0xC3>")) == 1);
  CHECK(tok.decode(ids) == "a <mask> é");
  const auto pieces = tok.encode_pieces("Hello");
  CHECK(pieces.front().rfind("\xE2\x96\x81", 0) == 0);
  // Control pieces are invisible unless asked for.
  std::vector<std::int32_t> with_bos{1};
  with_bos.insert(with_bos.end(), ids.begin(), ids.end());
  with_bos.push_back(2);
  CHECK(tok.decode(with_bos) == "a <mask> é");
  CHECK(tok.decode(with_bos, true) == "<s>a <mask> é</s>");
  CHECK_THROWS_WITH(tok.decode(std::vector<std::int32_t>{5, 1000}), Contains("id 1000 is outside the vocabulary (size 1000)"));
  CHECK_THROWS_WITH(tok.decode(std::vector<std::int32_t>{-1}), Contains("id -1 is outside"));
  CHECK_THROWS_WITH(tok.id_to_token(4000), Contains("outside the vocabulary"));
  const auto bpe = sentencepiece_tokenizer::load(spm_fixture("french_bpe1000_identity.model"));
  CHECK_THROWS_WITH(bpe.nbest("abc", 3), Contains("only Unigram models have a lattice (this model is BPE)"));
  // A ctformer::tokenizer is all the examples need.
  const std::unique_ptr<tokenizer> base = load_sentencepiece(spm_fixture("shakespeare_unigram1000_nmt_nfkc.model"));
  CHECK(base->decode(base->encode("To be, or not to be")) == "To be, or not to be");
  CHECK(base->encode("To be") == sentencepiece_tokenizer::load(spm_fixture("shakespeare_unigram1000_nmt_nfkc.model")).encode("To be"));
}

TEST_CASE("spm tokenizer: sampling follows the lattice distribution", "[data]") {
  const auto tok = sentencepiece_tokenizer::load(spm_fixture("shakespeare_unigram1000_nmt_nfkc.model"));
  const std::string text = "thereupon";
  // All segmentations with their scores: P(path) = exp(alpha * score) / Z for lattice sampling.
  const auto all = tok.nbest(text, 1000);
  REQUIRE(all.size() > 10);
  std::map<std::vector<std::int32_t>, double> expected;
  double z = 0;
  const float alpha = 0.5f;
  for (const auto& ids : all) {
    double s = 0;
    for (std::int32_t id : ids) s += tok.score(id);
    expected[ids] = std::exp(alpha * s);
    z += expected[ids];
  }
  std::mt19937 rng(42);
  std::map<std::vector<std::int32_t>, int> seen;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const auto ids = tok.sample(text, rng, -1, alpha);
    CHECK(tok.decode(ids) == text);
    ++seen[ids];
  }
  double max_err = 0;
  for (const auto& [ids, w] : expected) max_err = std::max(max_err, std::abs(seen[ids] / double(n) - w / z));
  INFO("largest gap between sampled and exact path probability: " << max_err);
  CHECK(max_err < 0.01);
  // The same seed gives the same samples; nbest_size 1 is Viterbi.
  std::mt19937 a(5), b(5);
  for (int i = 0; i < 50; ++i) CHECK(tok.sample(text, a, -1, 0.1f) == tok.sample(text, b, -1, 0.1f));
  CHECK(tok.sample(text, a, 1, 0.1f) == tok.encode(text));
  // BPE-dropout: probability 0 is plain BPE, probability 1 leaves characters.
  const auto bpe = sentencepiece_tokenizer::load(spm_fixture("french_bpe1000_identity.model"));
  CHECK(bpe.sample("bonjour", a, -1, 0.f) == bpe.encode("bonjour"));
  CHECK(bpe.sample("bonjour", a, -1, 1.f).size() == std::string("\xE2\x96\x81" "bonjour").size() - 2);
}

TEST_CASE("spm model: randomly corrupted files either load or fail with ctformer::error", "[io][data]") {
  // Byte flips anywhere, including inside the charsmap's double array and strings: loading and
  // encoding must never crash or read out of bounds; the only exception allowed is ctformer::error.
  const auto lines = split_lines(read_bytes(spm_fixture("text_edge.txt")));
  std::mt19937 rng(11);
  std::size_t loaded = 0, rejected = 0;
  for (const char* name : {"shakespeare_unigram1000_identity", "shakespeare_unigram1000_nmt_nfkc", "french_bpe1000_identity"}) {
    const std::string original = read_bytes(spm_fixture(std::string(name) + ".model"));
    for (int trial = 0; trial < 400; ++trial) {
      std::string bytes = original;
      const int flips = 1 + int(rng() % 8);
      for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = char(rng() % 256);
      try {
        const auto tok = sentencepiece_tokenizer::from_serialized(bytes, "fuzz");
        for (const auto& l : lines) {
          const auto ids = tok.encode(l);
          (void)tok.decode(ids);
        }
        ++loaded;
      } catch (const ctformer::error&) {
        ++rejected;
      }
    }
  }
  INFO("loaded " << loaded << ", rejected " << rejected);
  CHECK(loaded + rejected == 1200);
  CHECK(rejected > 0);
}

// Inputs the fuzz harnesses (tests/fuzz/) found or that were built by hand for issue 15: each
// used to read out of bounds, loop without end or let std::out_of_range escape.
TEST_CASE("spm model: hostile charsmaps fail at load with ctformer::error", "[io][data]") {
  const auto le32 = [](std::initializer_list<std::uint32_t> words) {
    std::string s;
    for (std::uint32_t w : words)
      for (int i = 0; i < 4; ++i) s.push_back(char((w >> (8 * i)) & 0xFF));
    return s;
  };
  const auto with_map = [](std::string blob) { return tiny_model("", "", bytes_field(1, "x") + bytes_field(2, blob)); };

  // A rule for byte 0x01 whose value unit lacks the value flag and holds 0x40000000: it loaded,
  // then encode("\x01") read normalized_.c_str() + 0x40000000.
  const std::string bad_leaf = with_map(le32({16}) + le32({0x800, 0x40000000, 0x80000000, 0x901}) + std::string("a\0", 2));
  CHECK(bad_leaf.size() == 54);
  CHECK_THROWS_AS(sentencepiece_tokenizer::from_serialized(bad_leaf, "bad_leaf.model"), error);
  CHECK_THROWS_WITH(sentencepiece_tokenizer::from_serialized(bad_leaf, "bad_leaf.model"),
                    Contains("sentencepiece model 'bad_leaf.model': normalizer_spec.precompiled_charsmap: unit 3 ends a "
                             "key but unit 1 holding its value is not a value unit (0x40000000)"));
  // The same shape with a flagged value past the strings.
  CHECK_THROWS_WITH(
      sentencepiece_tokenizer::from_serialized(with_map(le32({16, 0x800, 0xC0000000, 0x80000000, 0x901}) + std::string("a\0", 2))),
      Contains("points at offset 1073741824 past the 2 bytes"));

  // A trie size that fits the blob (8 < 9) but not the 5 bytes after its header: the unit loop
  // read past the end, then substr threw std::out_of_range out of the loader.
  const std::string short_body = with_map(le32({8}) + "xxxxx");
  CHECK_THROWS_AS(sentencepiece_tokenizer::from_serialized(short_body), error);
  CHECK_THROWS_WITH(sentencepiece_tokenizer::from_serialized(short_body),
                    Contains("trie size 8 exceeds the 5 bytes after the 4-byte header (blob size 9)"));
  for (std::uint32_t n = 4; n <= 64; n += 4) {
    std::string blob = le32({n}) + std::string(n - 1, 'x');  // always 1 byte short of the trie
    CHECK_THROWS_AS(spm::charsmap::parse(blob), error);
  }

  // A cycle (unit 0 -> unit 1 -> unit 0 on byte 0x01) made every lookup walk the whole input:
  // normalizing n bytes of 0x01 took n^2 steps.
  CHECK_THROWS_WITH(spm::charsmap::parse(le32({8, 0x1, 0x1}) + std::string("\0", 1)),
                    Contains("unit 0 leads back to itself (a cycle"));
  // Two nodes (units 1 and 2) sharing one child (unit 7) is legal (darts-clone shares suffixes).
  const auto shared = spm::charsmap::parse(le32({32, 0xFF, (5 << 10) | 1, (6 << 10) | 2, 0x80000000, 0x80000000,
                                                 0x80000000, 0x80000000, 3}) +
                                           std::string("\0", 1));
  CHECK(shared.match("\x01\x03").first == 0);  // no key ends there: no rule, and no crash
  // A key that never ends: a chain of 299 bytes (node i at unit i, its child on byte 1 at i + 1).
  {
    std::string units;
    const std::uint32_t n = 300;
    for (std::uint32_t i = 0; i < n; ++i) units += le32({((i ^ (i + 1) ^ 1) << 10) | (i == 0 ? 0xFFu : 1u)});
    CHECK_THROWS_WITH(spm::charsmap::parse(le32({n * 4}) + units + std::string("\0", 1)),
                      Contains("a key is longer than 256 bytes"));
  }
}
