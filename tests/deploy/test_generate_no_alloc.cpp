// The token loop of generation makes no heap allocation, cached and uncached, on 1 and 2 threads:
// this file replaces the global operator new and counts calls between the first and the last
// token's callback (everything generate() allocates comes before the first token).
#include <catch2/catch.hpp>

#include <ctformer/deploy/generate.hpp>
#include <ctformer/models/init.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support/count_allocations.hpp"

using alloc_count::allocations;
using alloc_count::counting;

using namespace ctformer;

namespace {
constexpr gpt_config cfg{.vocab = 53, .context = 32, .d_model = 64, .heads = 4, .d_ff = 256, .layers = 2};
using model = decoder_lm<cfg>;

long allocations_in_token_loop(bool cached, unsigned threads, std::size_t batch_rows) {
  set_num_threads(threads);
  auto p = std::make_unique<model::params>();
  initialize(*p, init_scheme::normal, 0.1, model::L, 3);
  generate_options o;
  o.max_new_tokens = 80;  // slides the window too
  o.use_cache = cached;
  o.sample = {.temperature = 0.9f, .top_k = 20, .top_p = 0.9f, .seed = 1};
  o.stop_tokens = {};
  std::vector<std::vector<std::int32_t>> prompts = {{1, 2, 3}, {4, 5, 6, 7, 8}};
  prompts.resize(batch_rows);
  std::size_t seen = 0;
  allocations = 0;
  auto on_token = [&](std::size_t, std::int32_t) {
    if (seen++ == 0) counting = true;  // from the first token on
    return true;
  };
  generator<model, 2> g;
  g.run(*p, prompts, o, on_token);  // warm-up: first-use statics and the lazily made buffers
  counting = false;
  seen = 0;
  allocations = 0;
  const auto out = g.run(*p, prompts, o, on_token);
  counting = false;
  set_num_threads(1);
  REQUIRE(out[0].tokens.size() == 80);
  REQUIRE(out[0].slides > 0);
  return allocations.load();
}
}  // namespace

TEST_CASE("generation's token loop allocates nothing", "[deploy]") {
  for (unsigned threads : {1u, 2u})
    for (std::size_t rows : {std::size_t(1), std::size_t(2)}) {
      INFO(threads << " thread(s), " << rows << " row(s)");
      CHECK(allocations_in_token_loop(true, threads, rows) == 0);
      CHECK(allocations_in_token_loop(false, threads, rows) == 0);
    }
}
