// Generation: the KV cache's incremental forward against decoder_lm::forward at every position,
// cached against uncached generation (greedy and seeded sampling, sliding and stopping windows,
// batches), stop tokens, the callback, the top-k / top-p filters on hand-made logits, and seeds.
// Logits are compared bit for bit: the cache runs the model's own block and layer stack with
// cached keys and values, and no kernel rounds by position. The same holds for weights read
// through a params_view bound to exported arrays (the firmware's weights in flash).
#include <catch2/catch.hpp>

#include <ctformer/deploy/exported.hpp>
#include <ctformer/deploy/generate.hpp>
#include <ctformer/models/init.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "support/exported_table.hpp"

using namespace ctformer;

namespace {

constexpr gpt_config pre_gelu_learned_tied{.vocab = 37, .context = 24, .d_model = 32, .heads = 4, .d_ff = 64,
                                           .layers = 2};
constexpr gpt_config post_relu_sin_untied{.vocab = 37, .context = 24, .d_model = 32, .heads = 4, .d_ff = 64,
                                          .layers = 2, .norm = norm_placement::post, .act = activation::relu,
                                          .pos = positional::sinusoidal, .tied_head = false};
constexpr gpt_config pre_relu_sin_untied_dropout{.vocab = 29, .context = 20, .d_model = 24, .heads = 3, .d_ff = 48,
                                                 .layers = 3, .act = activation::relu,
                                                 .pos = positional::sinusoidal, .tied_head = false,
                                                 .dropout = 0.1f};
// d_ff 52 is not a multiple of any SIMD width: the last partial batch of GELU falls on different
// elements in the full and the cached forward, which must not change a bit.
constexpr gpt_config post_gelu_learned_tied_odd{.vocab = 41, .context = 18, .d_model = 16, .heads = 2, .d_ff = 52,
                                                .layers = 2, .norm = norm_placement::post};

template <class M>
std::unique_ptr<typename M::params> make_params(std::uint64_t seed) {
  auto p = std::make_unique<typename M::params>();
  initialize(*p, init_scheme::normal, 0.25, M::L, seed);
  for_each_tensor(*p, [&](const tensor_info& info, auto& t) {
    if (info.role == role::norm || info.role == role::bias) {
      rng r(seed + t.size());
      for (auto& v : t) v += 0.2f * float(r.normal());
    }
  });
  return p;
}

std::vector<std::int32_t> random_tokens(std::size_t n, std::size_t vocab, std::uint64_t seed) {
  rng r(seed);
  std::vector<std::int32_t> v(n);
  for (auto& t : v) t = std::int32_t(r.below(vocab));
  return v;
}

// Logits of every position: full forward over the context versus the cache, fed in the given
// chunk sizes (which cut attention into different power-of-two pieces).
template <class M>
void check_incremental_logits(const std::vector<std::size_t>& chunks) {
  constexpr std::size_t Ctx = M::Ctx, V = M::V;
  auto p = make_params<M>(11);
  const auto ids = random_tokens(Ctx, V, 5);
  auto batch = std::make_unique<token_batch<1, Ctx>>();
  for (std::size_t j = 0; j < Ctx; ++j) {
    batch->ids(0, j) = ids[j];
    batch->attention_mask(0, j) = 1;
    batch->targets(0, j) = ignore_index;
    batch->token_type(0, j) = 0;
  }
  auto ws = std::make_unique<typename M::template workspace<1, Ctx>>();
  M::forward(*p, *ws, *batch, run_mode::eval());
  const float* ref = ws->logits.data();

  auto cache = kv_cache<M>::make();
  std::vector<float> got(Ctx * V);
  std::size_t at = 0;
  for (std::size_t n : chunks) {
    const float* last = extend<M>(*p, *cache, 0, std::span<const std::int32_t>(ids.data() + at, n), got.data() + at * V);
    REQUIRE(last == cache->logits_row(n - 1));
    at += n;
  }
  REQUIRE(at == Ctx);
  REQUIRE(cache->length[0] == Ctx);
  double worst = 0;
  std::size_t where = 0;
  for (std::size_t i = 0; i < Ctx * V; ++i) {
    const double d = std::abs(double(got[i]) - double(ref[i]));
    if (d > worst) worst = d, where = i;
  }
  INFO("worst |cached - full| " << worst << " at position " << where / V << " token " << where % V
                                 << " (" << kernels::simd_arch_name() << ")");
  REQUIRE(worst == 0.0);  // bit for bit at every vector width

  // A cleared cache gives the same logits again (stale entries get exactly zero weight).
  cache->clear();
  std::vector<float> again(Ctx * V);
  at = 0;
  for (std::size_t n : chunks) {
    extend<M>(*p, *cache, 0, std::span<const std::int32_t>(ids.data() + at, n), again.data() + at * V);
    at += n;
  }
  REQUIRE(again == got);

  // The same weights read where they are, through a view (as firmware reads them from flash).
  const testing::exported_table<typename M::params> tab(*p);
  typename M::params_view view;
  bind_exported(view, tab.span());
  REQUIRE(view.wte.data() == p->wte.data());
  cache->clear();
  std::vector<float> viewed(Ctx * V);
  at = 0;
  for (std::size_t n : chunks) {
    extend<M>(view, *cache, 0, std::span<const std::int32_t>(ids.data() + at, n), viewed.data() + at * V);
    at += n;
  }
  REQUIRE(viewed == got);
}

template <class M>
void check_incremental_all_splits() {
  constexpr std::size_t Ctx = M::Ctx;
  check_incremental_logits<M>({Ctx});                       // one pass
  check_incremental_logits<M>(std::vector<std::size_t>(Ctx, 1));  // token by token
  check_incremental_logits<M>({5, 1, 7, Ctx - 13});         // mixed pieces
}

template <class M>
void check_cached_equals_uncached(const generate_options& base, std::size_t prompt_len, std::uint64_t seed) {
  auto p = make_params<M>(seed);
  const auto prompt = random_tokens(prompt_len, M::V, seed + 1);
  generate_options o = base;
  o.use_cache = true;
  const auto cached = generate<M>(*p, prompt, o);
  o.use_cache = false;
  const auto uncached = generate<M>(*p, prompt, o);
  INFO("cached " << cached.tokens.size() << " tokens (" << to_string(cached.reason) << "), uncached "
                 << uncached.tokens.size() << " (" << to_string(uncached.reason) << ")");
  REQUIRE(cached.tokens == uncached.tokens);
  REQUIRE(cached.reason == uncached.reason);
  REQUIRE(cached.slides == uncached.slides);
}

template <class M>
void check_cached_equals_uncached_all() {
  generate_options o;
  o.max_new_tokens = 3 * M::Ctx;  // the window slides several times
  SECTION("greedy, sliding window") {
    o.sample.temperature = 0;
    check_cached_equals_uncached<M>(o, 5, 21);
  }
  SECTION("temperature, top-k and top-p with a seed, sliding window") {
    o.sample = {.temperature = 0.9f, .top_k = 12, .top_p = 0.9f, .seed = 77};
    check_cached_equals_uncached<M>(o, 3, 22);
  }
  SECTION("plain sampling, keep 1 when sliding") {
    o.sample = {.temperature = 1.3f, .seed = 5};
    o.slide_keep = 1;
    check_cached_equals_uncached<M>(o, 7, 23);
  }
  SECTION("stop when the context is full") {
    o.sample = {.temperature = 1.0f, .top_p = 0.95f, .seed = 9};
    o.when_full = context_policy::stop;
    auto p = make_params<M>(24);
    const auto prompt = random_tokens(4, M::V, 25);
    const auto g = generate<M>(*p, prompt, o);
    REQUIRE(g.reason == stop_reason::context_full);
    REQUIRE(g.tokens.size() == M::Ctx - 4 + 1);  // the last token is predicted from a full window
    REQUIRE(g.slides == 0);
    check_cached_equals_uncached<M>(o, 4, 24);
  }
  SECTION("a prompt longer than the context") {
    o.sample.temperature = 0;
    o.max_new_tokens = 10;
    check_cached_equals_uncached<M>(o, M::Ctx + 9, 26);
  }
}

}  // namespace

TEST_CASE("incremental forward equals the full forward at every position (pre-LN, GELU, learned, tied)", "[deploy]") {
  check_incremental_all_splits<decoder_lm<pre_gelu_learned_tied>>();
}
TEST_CASE("incremental forward equals the full forward at every position (post-LN, ReLU, sinusoidal, untied)",
          "[deploy]") {
  check_incremental_all_splits<decoder_lm<post_relu_sin_untied>>();
}
TEST_CASE("incremental forward equals the full forward at every position (dropout model in eval)", "[deploy]") {
  check_incremental_all_splits<decoder_lm<pre_relu_sin_untied_dropout>>();
}
TEST_CASE("incremental forward equals the full forward when d_ff is not a SIMD multiple", "[deploy]") {
  check_incremental_all_splits<decoder_lm<post_gelu_learned_tied_odd>>();
}

TEST_CASE("cached and uncached generation give identical tokens (pre-LN, GELU, learned, tied)", "[deploy]") {
  check_cached_equals_uncached_all<decoder_lm<pre_gelu_learned_tied>>();
}
TEST_CASE("cached and uncached generation give identical tokens (post-LN, ReLU, sinusoidal, untied)", "[deploy]") {
  check_cached_equals_uncached_all<decoder_lm<post_relu_sin_untied>>();
}
TEST_CASE("cached and uncached generation give identical tokens (dropout model, 3 layers)", "[deploy]") {
  check_cached_equals_uncached_all<decoder_lm<pre_relu_sin_untied_dropout>>();
}
TEST_CASE("cached and uncached generation give identical tokens (post-LN, GELU, odd d_ff)", "[deploy]") {
  check_cached_equals_uncached_all<decoder_lm<post_gelu_learned_tied_odd>>();
}

TEST_CASE("a batch generates what each prompt generates alone, cached and uncached", "[deploy]") {
  using M = decoder_lm<post_relu_sin_untied>;
  auto p = make_params<M>(31);
  const std::vector<std::vector<std::int32_t>> prompts = {random_tokens(2, M::V, 1), random_tokens(9, M::V, 2),
                                                          random_tokens(30, M::V, 3)};
  generate_options o;
  o.max_new_tokens = 40;
  o.sample = {.temperature = 0.8f, .top_k = 8, .seed = 100};
  o.stop_tokens = {3};
  std::vector<std::vector<std::int32_t>> streamed(3);
  const auto cached = generate_batch<M, 3>(*p, prompts, o, [&](std::size_t row, std::int32_t t) {
    streamed[row].push_back(t);
    return true;
  });
  o.use_cache = false;
  const auto uncached = generate_batch<M, 3>(*p, prompts, o);
  REQUIRE(cached.size() == 3);
  for (std::size_t b = 0; b < 3; ++b) {
    INFO("row " << b);
    REQUIRE(cached[b].tokens == uncached[b].tokens);
    REQUIRE(cached[b].reason == uncached[b].reason);
    REQUIRE(streamed[b] == cached[b].tokens);
    generate_options single = o;
    single.use_cache = true;
    single.sample.seed = o.sample.seed + b;  // row b draws from rng(seed + b)
    const auto alone = generate<M>(*p, prompts[b], single);
    REQUIRE(alone.tokens == cached[b].tokens);
    REQUIRE(alone.reason == cached[b].reason);
  }
  // Fewer prompts than rows is fine; the generator is reusable.
  generator<M, 3> g;
  const auto two = g.run(*p, std::span<const std::vector<std::int32_t>>(prompts.data(), 2), o);
  const auto two_again = g.run(*p, std::span<const std::vector<std::int32_t>>(prompts.data(), 2), o);
  REQUIRE(two.size() == 2);
  REQUIRE(two[1].tokens == uncached[1].tokens);
  REQUIRE(two_again[0].tokens == two[0].tokens);
}

TEST_CASE("stop tokens end generation and are returned last", "[deploy]") {
  using M = decoder_lm<pre_gelu_learned_tied>;
  auto p = make_params<M>(41);
  const auto prompt = random_tokens(4, M::V, 42);
  generate_options o;
  o.max_new_tokens = 50;
  o.sample.temperature = 0;
  const auto free_run = generate<M>(*p, prompt, o);
  REQUIRE(free_run.tokens.size() == 50);
  REQUIRE(free_run.reason == stop_reason::max_new_tokens);
  // Stop at the first occurrence of the token generated at index 6.
  const std::int32_t stop = free_run.tokens[6];
  std::size_t first = 0;
  while (free_run.tokens[first] != stop) ++first;
  o.stop_tokens = {std::int32_t((stop + 1) % M::V), stop};
  for (bool cached : {true, false}) {
    o.use_cache = cached;
    const auto g = generate<M>(*p, prompt, o);
    REQUIRE(g.reason == stop_reason::stop_token);
    REQUIRE(g.tokens.size() <= first + 1);
    REQUIRE(g.tokens.back() == stop);
    REQUIRE(std::vector<std::int32_t>(free_run.tokens.begin(), free_run.tokens.begin() + std::ptrdiff_t(g.tokens.size())) ==
            g.tokens);
  }
  o.stop_tokens = {std::int32_t(M::V)};
  REQUIRE_THROWS_AS(generate<M>(*p, prompt, o), error);
}

TEST_CASE("the callback sees every token in order and can stop generation", "[deploy]") {
  using M = decoder_lm<post_relu_sin_untied>;
  auto p = make_params<M>(51);
  const auto prompt = random_tokens(3, M::V, 52);
  generate_options o;
  o.max_new_tokens = 30;
  o.sample = {.temperature = 1.0f, .seed = 3};
  std::vector<std::int32_t> seen;
  const auto g = generate<M>(*p, prompt, o, [&](std::int32_t t) {
    seen.push_back(t);
    return seen.size() < 5;
  });
  REQUIRE(g.reason == stop_reason::callback);
  REQUIRE(g.tokens.size() == 5);
  REQUIRE(seen == g.tokens);
  // A void callback never stops; the tokens are those of a run without one.
  std::size_t count = 0;
  const auto all = generate<M>(*p, prompt, o, [&](std::int32_t) { ++count; });
  REQUIRE(all.reason == stop_reason::max_new_tokens);
  REQUIRE(count == 30);
  REQUIRE(std::vector<std::int32_t>(all.tokens.begin(), all.tokens.begin() + 5) == g.tokens);
  o.max_new_tokens = 0;
  REQUIRE(generate<M>(*p, prompt, o).tokens.empty());
}

TEST_CASE("the sampling distribution on hand-made logits: temperature, top-k, top-p", "[deploy]") {
  // Probabilities 0.1, 0.4, 0.2, 0.25, 0.05 as logits (plus an offset softmax ignores).
  const std::vector<double> probs = {0.1, 0.4, 0.2, 0.25, 0.05};
  std::vector<float> logits;
  for (double q : probs) logits.push_back(float(std::log(q) + 3.0));
  sampler s(5);
  auto expect = [&](const sampling& cfg, const std::vector<double>& want, const std::vector<std::int32_t>& kept) {
    const std::size_t n = s.distribution(logits.data(), cfg);
    REQUIRE(n == kept.size());
    const auto got = s.probabilities();
    for (std::size_t i = 0; i < 5; ++i) {
      INFO("token " << i);
      REQUIRE(got[i] == Approx(want[i]).margin(1e-6));
      if (want[i] == 0.0) REQUIRE(got[i] == 0.0);  // dropped tokens are exactly zero
    }
    const auto k = s.kept();
    REQUIRE(std::vector<std::int32_t>(k.begin(), k.end()) == kept);
  };
  SECTION("temperature 1 reproduces the distribution, in id order") {
    expect({.temperature = 1.0f}, probs, {0, 1, 2, 3, 4});
  }
  SECTION("temperature 0.5 squares and renormalizes") {
    double z = 0;
    for (double q : probs) z += q * q;
    std::vector<double> want;
    for (double q : probs) want.push_back(q * q / z);
    expect({.temperature = 0.5f}, want, {0, 1, 2, 3, 4});
  }
  SECTION("top-k 2 keeps the two most likely") {
    expect({.top_k = 2}, {0, 0.4 / 0.65, 0, 0.25 / 0.65, 0}, {1, 3});
  }
  SECTION("top-k larger than the vocabulary keeps everything") {
    expect({.top_k = 9}, probs, {0, 1, 2, 3, 4});
  }
  SECTION("top-p keeps the smallest most-likely set reaching p") {
    expect({.top_p = 0.3f}, {0, 1, 0, 0, 0}, {1});
    expect({.top_p = 0.6f}, {0, 0.4 / 0.65, 0, 0.25 / 0.65, 0}, {1, 3});
    expect({.top_p = 0.7f}, {0, 0.4 / 0.85, 0.2 / 0.85, 0.25 / 0.85, 0}, {1, 3, 2});
    expect({.top_p = 0.93f}, {0.1 / 0.95, 0.4 / 0.95, 0.2 / 0.95, 0.25 / 0.95, 0}, {1, 3, 2, 0});
    expect({.top_p = 0.97f}, probs, {1, 3, 2, 0, 4});
  }
  SECTION("top-p applies after top-k, on the renormalized top-k mass") {
    // top-3 mass 0.85: 0.4/0.85 = 0.47 < 0.5, then + 0.25/0.85 = 0.76 >= 0.5.
    expect({.top_k = 3, .top_p = 0.5f}, {0, 0.4 / 0.65, 0, 0.25 / 0.65, 0}, {1, 3});
  }
  SECTION("greedy: temperature 0 or top-k 1; ties go to the lower id") {
    expect({.temperature = 0.0f}, {0, 1, 0, 0, 0}, {1});
    expect({.top_k = 1}, {0, 1, 0, 0, 0}, {1});
    const std::vector<float> tie = {0.5f, 2.0f, 1.0f, 2.0f, -1.0f};
    REQUIRE(sampler::argmax(tie.data(), 5) == 1);
    sampler t(5);
    REQUIRE(t.distribution(tie.data(), {.top_k = 2}) == 2);
    REQUIRE(t.kept()[0] == 1);
    REQUIRE(t.kept()[1] == 3);
  }
  SECTION("vocab_limit draws only ids below it (a padded vocabulary)") {
    expect({.vocab_limit = 3}, {0.1 / 0.7, 0.4 / 0.7, 0.2 / 0.7, 0, 0}, {0, 1, 2});
    expect({.top_k = 2, .vocab_limit = 3}, {0, 0.4 / 0.6, 0.2 / 0.6, 0, 0}, {1, 2});
    expect({.temperature = 0.0f, .vocab_limit = 1}, {1, 0, 0, 0, 0}, {0});
  }
  SECTION("bad settings are errors") {
    REQUIRE_THROWS_AS(s.distribution(logits.data(), {.top_p = 0.0f}), error);
    REQUIRE_THROWS_AS(s.distribution(logits.data(), {.top_p = 1.5f}), error);
    REQUIRE_THROWS_AS(s.distribution(logits.data(), {.temperature = INFINITY}), error);
  }
}

TEST_CASE("draws follow the filtered distribution and never pick a dropped token", "[deploy]") {
  const std::vector<float> logits = {std::log(0.1f), std::log(0.4f), std::log(0.2f), std::log(0.25f), std::log(0.05f)};
  sampler s(5);
  rng r(123);
  const sampling cfg{.top_k = 3, .top_p = 0.9f};  // top-3 renormalized: 0.47, 0.29, 0.24; p 0.9 needs all three
  const std::size_t n = s.distribution(logits.data(), cfg);
  const std::vector<double> want(s.probabilities().begin(), s.probabilities().end());
  REQUIRE(n == 3);
  std::vector<double> count(5, 0.0);
  const int draws = 40000;
  for (int i = 0; i < draws; ++i) count[std::size_t(s.sample(logits.data(), cfg, r))] += 1;
  REQUIRE(count[0] == 0);
  REQUIRE(count[4] == 0);
  for (std::size_t i = 0; i < 5; ++i) {
    INFO("token " << i);
    REQUIRE(count[i] / draws == Approx(want[i]).margin(0.01));  // about 4 standard deviations
  }
}

TEST_CASE("a seed gives the same tokens every time; another seed gives others", "[deploy]") {
  using M = decoder_lm<pre_gelu_learned_tied>;
  auto p = make_params<M>(61);
  const auto prompt = random_tokens(2, M::V, 62);
  generate_options o;
  o.max_new_tokens = 40;
  o.sample = {.temperature = 1.2f, .top_p = 0.98f, .seed = 2024};
  const auto a = generate<M>(*p, prompt, o);
  const auto b = generate<M>(*p, prompt, o);
  REQUIRE(a.tokens == b.tokens);
  o.sample.seed = 2025;
  const auto c = generate<M>(*p, prompt, o);
  REQUIRE(c.tokens != a.tokens);
  // Greedy takes no draws: the seed does not matter.
  o.sample.temperature = 0;
  const auto g1 = generate<M>(*p, prompt, o);
  o.sample.seed = 1;
  REQUIRE(generate<M>(*p, prompt, o).tokens == g1.tokens);
}

TEST_CASE("a params view binds only to a table with the model's tensors, names and sizes", "[deploy]") {
  using M = decoder_lm<pre_gelu_learned_tied>;
  auto p = make_params<M>(3);
  testing::exported_table<M::params> tab(*p);
  M::params_view view;
  auto short_table = tab.table;
  short_table.pop_back();
  CHECK_THROWS_WITH(bind_exported(view, std::span<const exported_tensor>(short_table)),
                    Catch::Contains("the header has") && Catch::Contains("the model more"));
  auto resized = tab.table;
  resized[3].bytes -= 4;
  CHECK_THROWS_WITH(bind_exported(view, std::span<const exported_tensor>(resized)),
                    Catch::Contains("tensor 3") && Catch::Contains(tab.names[3]));
  auto renamed = tab.table;
  renamed[0].name = "wte.bias";
  CHECK_THROWS_WITH(bind_exported(view, std::span<const exported_tensor>(renamed)),
                    Catch::Contains("'wte.bias'") && Catch::Contains("'wte.weight'"));
  auto longer = tab.table;
  longer.push_back(longer.back());
  CHECK_THROWS_WITH(bind_exported(view, std::span<const exported_tensor>(longer)),
                    Catch::Contains("tensors, the model"));
  bind_exported(view, tab.span());
  CHECK(view.h[1].fc2.weight.data() == p->h[1].fc2.weight.data());
}

TEST_CASE("generation rejects bad prompts and settings with clear errors", "[deploy]") {
  using M = decoder_lm<pre_gelu_learned_tied>;
  auto p = make_params<M>(71);
  const std::vector<std::int32_t> empty, outside = {1, 2, std::int32_t(M::V)};
  REQUIRE_THROWS_WITH(generate<M>(*p, empty), Catch::Contains("empty"));
  REQUIRE_THROWS_WITH(generate<M>(*p, outside), Catch::Contains("outside the vocabulary"));
  generate_options o;
  o.slide_keep = M::Ctx + 1;
  REQUIRE_THROWS_WITH(generate<M>(*p, std::vector<std::int32_t>{1}, o), Catch::Contains("slide_keep"));
  auto cache = kv_cache<M>::make();
  const auto ids = random_tokens(M::Ctx + 1, M::V, 1);
  REQUIRE_THROWS_WITH(extend<M>(*p, *cache, 0, std::span<const std::int32_t>(ids)), Catch::Contains("context"));
  STATIC_REQUIRE(kv_cache<M>::bytes() >= 2 * M::L * M::Ctx * M::C * sizeof(float));
}
