// safetensors: bit-identical round trips of whole models in Hugging Face layout, and clear errors
// (naming the tensor) for truncated files, wrong shapes, missing and unexpected tensors, bad
// headers, overlapping or gapped data - with the model left untouched.
#include <catch2/catch.hpp>

#include <ctformer/io/weights.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/models/init.hpp>

#include "support/same_bits.hpp"

#include <cstdio>
#include <filesystem>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include "support/test_support.hpp"

using namespace ctformer;
using testing::same_bits;

namespace {

constexpr gpt_config tiny{.vocab = 17, .context = 8, .d_model = 8, .heads = 2, .d_ff = 16, .layers = 2};
constexpr gpt_config tiny_wide{.vocab = 17, .context = 8, .d_model = 12, .heads = 2, .d_ff = 16, .layers = 2};
constexpr gpt_config tiny_untied{.vocab = 17, .context = 8, .d_model = 8, .heads = 2, .d_ff = 16, .layers = 2,
                                 .tied_head = false};
constexpr bert_config tiny_bert{.vocab = 19, .context = 8, .d_model = 8, .heads = 2, .d_ff = 16, .layers = 2};
using gpt = decoder_lm<tiny>;
using bert = encoder<tiny_bert, classify<3>>;

std::string tmp_path(const std::string& name) {
  return testing::temp_path("test_" + name).string();
}

std::string load_error(const std::string& path) {
  auto p = std::make_unique<gpt::params>();
  initialize(*p, init_scheme::gpt2, 0.02, gpt::L, 9);
  auto before = std::make_unique<gpt::params>(*p);
  try {
    load_weights(path, *p);
  } catch (const error& e) {
    REQUIRE(same_bits(*p, *before));  // nothing was written
    return e.what();
  }
  return "no error";
}

std::vector<char> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}
void spit(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace

TEST_CASE("safetensors round trip is bit-identical for GPT-2 and BERT names", "[io]") {
  auto p = std::make_unique<gpt::params>();
  initialize(*p, init_scheme::gpt2, 0.02, gpt::L, 1);
  const auto path = tmp_path("gpt.safetensors");
  save_weights(path, *p);
  auto q = std::make_unique<gpt::params>();
  zero(*q);
  load_weights(path, *q);
  REQUIRE(same_bits(*p, *q));
  const auto f = safetensors::file::read(path);
  REQUIRE(f.find("wte.weight"));
  REQUIRE(f.find("h.1.attn.c_attn.weight")->shape == std::vector<std::size_t>{8, 24});  // Conv1D (in, out)
  REQUIRE(f.find("h.0.mlp.c_proj.bias"));
  REQUIRE(*f.metadata("format") == "pt");

  auto b = std::make_unique<bert::params>();
  initialize(*b, init_scheme::normal, 0.02, bert::L, 2);
  const auto bpath = tmp_path("bert.safetensors");
  save_weights(bpath, *b);
  const auto bf = safetensors::file::read(bpath);
  REQUIRE(bf.find("encoder.layer.1.intermediate.dense.weight")->shape == std::vector<std::size_t>{16, 8});  // (out, in)
  REQUIRE(bf.find("embeddings.word_embeddings.weight")->shape == std::vector<std::size_t>{19, 8});
  REQUIRE(bf.find("classifier.weight")->shape == std::vector<std::size_t>{3, 8});
  auto b2 = std::make_unique<bert::params>();
  zero(*b2);
  load_weights(bpath, *b2);
  REQUIRE(same_bits(*b, *b2));
  REQUIRE(b2->body.layer[1].fc.weight(3, 5) == b->body.layer[1].fc.weight(3, 5));

  // Native layout keeps (in, out) everywhere, and also round-trips.
  save_weights(bpath, *b, {.layout = weight_layout::native});
  zero(*b2);
  load_weights(bpath, *b2, {.layout = weight_layout::native});
  REQUIRE(same_bits(*b, *b2));
  std::remove(path.c_str());
  std::remove(bpath.c_str());
}

TEST_CASE("loading a truncated file fails clearly and loses nothing", "[io]") {
  auto p = std::make_unique<gpt::params>();
  initialize(*p, init_scheme::gpt2, 0.02, gpt::L, 3);
  const auto path = tmp_path("trunc.safetensors");
  save_weights(path, *p);
  auto bytes = slurp(path);
  auto cut = bytes;
  cut.resize(bytes.size() - 100);
  spit(path, cut);
  const auto msg = load_error(path);
  CHECK_THAT(msg, Catch::Contains("is truncated") && Catch::Contains("tensor '") && Catch::Contains("needs bytes"));
  cut.resize(5);
  spit(path, cut);
  CHECK_THAT(load_error(path), Catch::Contains("truncated: 5 bytes"));
  cut = bytes;
  cut.resize(40);
  spit(path, cut);
  CHECK_THAT(load_error(path), Catch::Contains("truncated: the header claims"));
  std::remove(path.c_str());
}

TEST_CASE("loading a file with a wrong shape or a missing tensor names the tensor", "[io]") {
  const auto path = tmp_path("shape.safetensors");
  auto wide = std::make_unique<decoder_lm<tiny_wide>::params>();
  initialize(*wide, init_scheme::gpt2, 0.02, 2, 4);
  save_weights(path, *wide);
  auto msg = load_error(path);
  CHECK_THAT(msg, Catch::Contains("tensor 'wte.weight' has shape [17, 12] in the file but the model expects [17, 8]"));
  CHECK_THAT(msg, Catch::Contains("tensor 'h.0.attn.c_attn.weight' has shape [12, 36]"));

  // The untied model has an lm_head the tied one lacks: unexpected; the reverse: missing.
  auto untied = std::make_unique<decoder_lm<tiny_untied>::params>();
  initialize(*untied, init_scheme::gpt2, 0.02, 2, 5);
  save_weights(path, *untied);
  CHECK_THAT(load_error(path), Catch::Contains("unexpected tensor 'lm_head.weight'"));
  auto p = std::make_unique<gpt::params>();
  initialize(*p, init_scheme::gpt2, 0.02, 2, 6);
  save_weights(path, *p);
  auto u2 = std::make_unique<decoder_lm<tiny_untied>::params>();
  CHECK_THROWS_WITH(load_weights(path, *u2), Catch::Contains("missing tensor 'lm_head.weight'"));

  // A file that lacks one tensor: write all but h.1.ln_2.bias by hand.
  safetensors::writer w;
  for_each_tensor(*p, [&](const tensor_info& info, const auto& t) {
    if (info.str() == "h.1.ln_2.bias") return;
    w.add(info.str(), safetensors::dtype::F32, detail::file_shape(t, false), t.data());
  });
  w.save(path);
  CHECK_THAT(load_error(path), Catch::Contains("1 problem") && Catch::Contains("missing tensor 'h.1.ln_2.bias'"));
  std::remove(path.c_str());
}

TEST_CASE("safetensors rejects corrupt headers, overlaps, gaps and bad dtypes", "[io]") {
  auto make = [](const std::string& header, std::size_t data_bytes) {
    std::vector<char> bytes(8);
    const std::uint64_t n = header.size();
    std::memcpy(bytes.data(), &n, 8);
    bytes.insert(bytes.end(), header.begin(), header.end());
    bytes.resize(bytes.size() + data_bytes, 0);
    return bytes;
  };
  auto err = [&](const std::string& header, std::size_t data) {
    try {
      safetensors::file::parse(make(header, data), "x.safetensors");
    } catch (const error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(err("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", 8),
             Catch::Contains("corrupt header"));
  CHECK_THAT(err(R"({"a": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}})", 8),
             Catch::Contains("tensor 'a': unknown dtype 'Q7'"));
  CHECK_THAT(err(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8),
             Catch::Contains("tensor 'a' is F32 [3] (12 bytes) but its data_offsets span 8 bytes"));
  CHECK_THAT(err(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12),
             Catch::Contains("overlaps"));
  CHECK_THAT(err(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8),
             Catch::Contains("a gap of 4 bytes precedes tensor 'a'"));
  CHECK_THAT(err(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8),
             Catch::Contains("4 bytes after the last tensor"));
  CHECK(err(R"({"__metadata__": {"format": "pt"}, "a": {"dtype": "I8", "shape": [2, 2], "data_offsets": [0, 4]}})", 4) == "no error");
}

// Issue 15's fuzz finding (86 bytes, also tests/fuzz/regressions/safetensors/): 242243305 x
// 19037413721 = 2^62 + 1 elements, times 4 bytes wraps to 4, so the file passed as 4 bytes of data.
TEST_CASE("safetensors rejects shapes whose size overflows", "[io]") {
  const std::string header = R"({"w":{"dtype":"F32","shape":[242243305,19037413721],"data_offsets":[0,4]}})";
  std::vector<char> bytes(8);
  const std::uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + 4, 0);
  REQUIRE(bytes.size() == 86);
  CHECK_THROWS_AS(safetensors::file::parse(bytes, "wrap.safetensors"), error);
  CHECK_THROWS_WITH(safetensors::file::parse(bytes, "wrap.safetensors"),
                    Catch::Contains("'wrap.safetensors': tensor 'w' has shape [242243305, 19037413721], whose size in "
                                    "bytes does not fit in 64 bits"));
  // The element count alone overflowing, and a zero dimension making any product 0.
  std::size_t count = 0;
  CHECK_FALSE(safetensors::checked_elements({std::size_t(1) << 32, std::size_t(1) << 32}, count));
  CHECK(safetensors::checked_elements({std::size_t(1) << 40, std::size_t(1) << 40, 0}, count));
  CHECK(count == 0);
  CHECK(safetensors::checked_elements({3, 5, 7}, count));
  CHECK(count == 105);
}

TEST_CASE("weights convert from F64 and F16 files and honour prefixes", "[io]") {
  auto p = std::make_unique<gpt::params>();
  initialize(*p, init_scheme::gpt2, 0.02, gpt::L, 7);
  // A double-precision model saved with GPT2LMHeadModel's "transformer." prefix.
  auto d = std::make_unique<decoder_lm<tiny, double>::params>();
  std::vector<float> flat;
  for_each_tensor(*p, [&](const tensor_info&, const auto& a) { flat.insert(flat.end(), a.begin(), a.end()); });
  std::size_t k = 0;
  for_each_tensor(*d, [&](const tensor_info&, auto& b) {
    for (auto& v : b) v = flat[k++];
  });
  const auto path = tmp_path("f64.safetensors");
  save_weights(path, *d, {.prefix = "transformer."});
  auto q = std::make_unique<gpt::params>();
  load_weights(path, *q);
  REQUIRE(same_bits(*p, *q));
  CHECK(detail::half_to_float(0x3C00) == 1.0f);
  CHECK(detail::half_to_float(0xC000) == -2.0f);
  CHECK(detail::half_to_float(0x0001) == std::ldexp(1.0f, -24));
  std::remove(path.c_str());
}

// Issue 16: a damaged byte in a header key, NaN bytes in a weights file, and a training checkpoint
// given to load_weights are each named for what they are; the model is left untouched.
TEST_CASE("safetensors names a damaged header entry as damage", "[io]") {
  const std::string header =
      R"({"__m#tadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})";
  std::vector<char> bytes(8);
  const std::uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + 4, 0);
  CHECK_THROWS_WITH(safetensors::file::parse(bytes, "d.safetensors"),
                    Catch::Contains("'d.safetensors': damaged header: entry '__m#tadata__' is neither __metadata__ "
                                    "nor a tensor"));
}

TEST_CASE("load_weights refuses NaN and infinity, naming the tensor, unless allowed", "[io]") {
  auto p = std::make_unique<gpt::params>();
  initialize(*p, init_scheme::gpt2, 0.02, gpt::L, 3);
  const std::string path = tmp_path("nan.safetensors");
  {
    auto bad = std::make_unique<gpt::params>(*p);
    bad->h[1].fc.weight(2, 3) = std::numeric_limits<float>::quiet_NaN();
    bad->h[1].fc.weight(4, 0) = std::numeric_limits<float>::infinity();
    save_weights(path, *bad);
  }
  CHECK_THAT(load_error(path), Catch::Contains("tensor 'h.1.mlp.c_fc.weight' holds 2 non-finite values (the first, "
                                               "nan, at element 35") &&
                                   Catch::Contains("allow_non_finite"));
  load_options o;
  o.allow_non_finite = true;
  auto q = std::make_unique<gpt::params>();
  load_weights(path, *q, o);
  CHECK(std::isnan(q->h[1].fc.weight(2, 3)));
  std::remove(path.c_str());
}
