// Configs as template arguments: every field reads back through the template parameter object
// (Clang miscompiled or crashed on this while configs had padding), `real` behaves as the float
// it holds, and describe() and the signatures are the ones the float-member configs produced.
#include <catch2/catch.hpp>

#include <ctformer/config.hpp>
#include <ctformer/models/decoder_lm.hpp>

#include <cstring>
#include <type_traits>

using namespace ctformer;

namespace {

constexpr gpt_config g{.vocab = 256, .context = 64, .d_model = 128, .heads = 4, .d_ff = 512, .layers = 4,
                       .norm = norm_placement::post, .act = activation::relu, .pos = positional::sinusoidal,
                       .tied_head = false, .dropout = 0.1f, .ln_eps = 1e-6f, .init = init_scheme::kaiming,
                       .init_std = 0.05f};
constexpr bert_config b{.vocab = 30, .context = 16, .d_model = 8, .heads = 2, .d_ff = 16, .dropout = 0.1,
                        .ln_eps = 1e-12f, .init_std = 0.05f};
constexpr seq2seq_config s{.src_vocab = 3, .tgt_vocab = 4, .src_context = 5, .tgt_context = 6, .d_model = 8,
                           .heads = 2, .d_ff = 4};

// Reads through references into the template parameter object, not through folded constants:
// the path Clang got wrong. noinline keeps the optimizer from folding the reads away.
template <class T>
[[gnu::noinline]] float read_float(const T& x) {
  return float(x);
}
template <class T>
[[gnu::noinline]] std::uint64_t read_int(const T& x) {
  return std::uint64_t(x);
}
template <gpt_config C>
struct read_back {
  static gpt_config get() {
    gpt_config r{};
    r.vocab = read_int(C.vocab);
    r.context = read_int(C.context);
    r.d_model = read_int(C.d_model);
    r.heads = read_int(C.heads);
    r.d_ff = read_int(C.d_ff);
    r.layers = read_int(C.layers);
    r.head_dim = read_int(C.head_dim);
    r.norm = norm_placement(read_int(C.norm));
    r.act = activation(read_int(C.act));
    r.pos = positional(read_int(C.pos));
    r.tied_head = read_int(C.tied_head) != 0;
    r.dropout = read_float(C.dropout);
    r.ln_eps = read_float(C.ln_eps);
    r.init = init_scheme(read_int(C.init));
    r.init_std = read_float(C.init_std);
    return r;
  }
};

}  // namespace

TEST_CASE("config: every field of a template argument reads back as written", "[models]") {
  const gpt_config r = read_back<g>::get();
  CHECK(std::memcmp(&r, &g, sizeof(gpt_config)) == 0);
  CHECK(r.dropout == 0.1f);
  CHECK(r.ln_eps == 1e-6f);
  CHECK(r.init == init_scheme::kaiming);
  CHECK(r.init_std == 0.05f);
  CHECK(!r.tied_head);
  CHECK(decoder_lm<g>::describe() == "decoder_lm<float>" + describe(g));
}

TEST_CASE("config: real holds a float exactly and converts back", "[models]") {
  STATIC_REQUIRE(std::is_same_v<decltype(gpt_config::dropout), real>);
  STATIC_REQUIRE(float(real(0.1f)) == 0.1f);
  STATIC_REQUIRE(float(real(0.1)) == 0.1f);  // a double rounds as a float member rounded it
  STATIC_REQUIRE(real(-0.0f).bits == 0x80000000u);
  STATIC_REQUIRE(b.dropout > 0.0f && s.dropout == 0.0f);
  CHECK(fmt::format("{} {:.3f} {:>8}", real(0.1f), real(0.25f), real(1e-5f)) == "0.1 0.250    1e-05");
  CHECK(double(g.init_std) / 2 == double(0.05f) / 2);
}

TEST_CASE("config: describe() and signatures are those of the float-member configs", "[models]") {
  // The expected values were printed by the configs before their floats became `real`.
  STATIC_REQUIRE(config_signature(gpt_config{.vocab = 256, .context = 64, .d_model = 128, .heads = 4, .d_ff = 512,
                                             .layers = 4, .dropout = 0.1f}) == 0x733c7e7d482948f9ull);
  STATIC_REQUIRE(config_signature(b) == 0xb6a790a7d173aa76ull);
  STATIC_REQUIRE(config_signature(s) == 0x2710cb5bce35d64aull);
  CHECK(describe(b) ==
        "bert_config{vocab=30, context=16, d_model=8, heads=2, d_ff=16, layers=1, type_vocab=2, norm=post, act=gelu, "
        "pos=learned, tied_head=true, dropout=0.1, ln_eps=1e-12, init=normal, init_std=0.05}");
  CHECK(describe(s) ==
        "seq2seq_config{src_vocab=3, tgt_vocab=4, src_context=5, tgt_context=6, d_model=8, heads=2, d_ff=4, "
        "enc_layers=1, dec_layers=1, norm=pre, act=relu, pos=sinusoidal, tied_head=true, dropout=0, ln_eps=1e-05, "
        "init=xavier_uniform, init_std=0.02}");
}
