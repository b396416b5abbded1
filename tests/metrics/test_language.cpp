// Language metrics against scipy/numpy (log_softmax, argmax): mean NLL over real tokens,
// perplexity = exp(mean NLL) and token accuracy with ignore_index = -100 skipped.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <ctformer/data/batch.hpp>
#include <ctformer/metrics/language.hpp>

#include "fixtures.hpp"

namespace m = ctformer::metrics;
using namespace ctformer::testing;

static_assert(m::ignore_index == ctformer::ignore_index, "metrics and data agree on the ignore index");

TEST_CASE("perplexity, loss and token accuracy match scipy's log_softmax", "[metrics][parity]") {
  const auto fx = load_fixture("language.json");
  for (const auto& c : fx.at("cases").as_array()) {
    const auto t = ints(c.at("targets"));
    const auto z = doubles(c.at("logits"));
    const std::size_t v = std::size_t(c.at("vocab").as_int());
    const auto& e = c.at("expected");
    m::language_metrics acc;
    // Two batches: the stream does not depend on where batches split.
    const std::size_t half = t.size() / 2;
    acc.update({std::span(t).first(half), m::real_view(z).subview(0, half * v), v});
    acc.update({std::span(t).subspan(half), m::real_view(z).subview(half * v, (t.size() - half) * v), v});
    CHECK(acc.tokens() == std::size_t(e.at("tokens").as_int()));
    CHECK_NEAR(acc.loss(), e.at("loss").as_number());
    CHECK_NEAR(acc.perplexity(), e.at("perplexity").as_number());
    CHECK_NEAR(acc.token_accuracy(), e.at("token_accuracy").as_number());
    CHECK_NEAR(m::perplexity(t, z, v), e.at("perplexity").as_number());
    // Float logits give the same numbers to float precision.
    std::vector<float> zf(z.begin(), z.end());
    CHECK(m::perplexity(t, zf, v) == Approx(e.at("perplexity").as_number()).epsilon(1e-5));
  }
}

TEST_CASE("token accuracy ignores padding; NLL sums from a loss combine", "[metrics][edge]") {
  const std::vector<std::int32_t> t = {5, -100, 7, -100, 2}, p = {5, 9, 1, 9, 2};
  CHECK(m::token_accuracy(t, p) == Approx(2.0 / 3.0));
  const std::vector<std::int32_t> t_pad = {5, 0, 7, 0, 2};  // a pad id instead of -100
  CHECK(m::token_accuracy(t_pad, p, 0) == Approx(2.0 / 3.0));
  const std::vector<std::int32_t> all_pad = {-100, -100};
  const std::vector<std::int32_t> two = {1, 2};
  CHECK_THROWS_WITH(m::token_accuracy(all_pad, two), Catch::Contains("no real token"));
  m::language_metrics acc;
  acc.add_nll(2.0 * 3, 3);  // three tokens of NLL 2
  acc.add_nll(1.0 * 1, 1);
  CHECK(acc.loss() == Approx(7.0 / 4.0));
  CHECK(acc.perplexity() == Approx(std::exp(7.0 / 4.0)));
  CHECK_FALSE(acc.result().contains("token_accuracy"));
  m::language_metrics empty;
  CHECK_THROWS_WITH(empty.result(), Catch::Contains("no real token"));
  const std::vector<double> logits = {0, 1, std::nan("")};
  const std::vector<std::int32_t> one = {0};
  CHECK_THROWS_WITH(empty.update({one, logits, 3}), Catch::Contains("logit at index 2 is NaN"));
  const std::vector<std::int32_t> out = {3};
  CHECK_THROWS_WITH(empty.update({out, logits, 3}), Catch::Contains("target 3 at token 0 is outside [0, 3)"));
  // Huge logits stay finite: log-softmax subtracts the row maximum.
  const std::vector<float> big = {1e30f, -1e30f};
  const std::vector<std::int32_t> zero = {0};
  CHECK(m::perplexity(zero, big, 2) == 1.0);
}
