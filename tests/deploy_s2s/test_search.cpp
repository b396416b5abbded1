// Greedy decoding and beam search on hand-built scorers: exhaustive beams find the best hypothesis
// that brute-force enumeration finds (with and without a length penalty), beam 1 is greedy, eos
// ends a hypothesis and is never extended, a beam of 2 escapes a greedy trap, runs repeat exactly.
#include <catch2/catch.hpp>

#include <ctformer/deploy/seq2seq_decode.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

using namespace ctformer;

namespace {

// Log-probabilities as a fixed function of the prefix: a hash of (seed, prefix) gives logits.
struct table_scorer {
  std::size_t V = 4, K = 512, max_len = 4;
  std::uint64_t seed = 1;
  std::vector<std::vector<std::int32_t>> rows_;
  std::vector<std::int32_t> advanced;  // every token ever passed to advance()
  std::size_t log_prob_calls = 0;

  std::size_t rows() const { return K; }
  std::size_t vocab_size() const { return V; }
  std::size_t max_length() const { return max_len; }
  void start(std::size_t n) { rows_.assign(n, {}); }
  void advance(std::span<const std::size_t> parent, std::span<const std::int32_t> tok) {
    std::vector<std::vector<std::int32_t>> next;
    for (std::size_t r = 0; r < parent.size(); ++r) {
      next.push_back(rows_.at(parent[r]));
      next.back().push_back(tok[r]);
      advanced.push_back(tok[r]);
    }
    rows_ = std::move(next);
  }
  void log_probs(std::span<double> out) {
    ++log_prob_calls;
    for (std::size_t r = 0; r < rows_.size(); ++r) row(rows_[r], out.data() + r * V);
  }
  // The distribution after a prefix; also used directly by the brute force.
  void row(const std::vector<std::int32_t>& prefix, double* out) const {
    std::uint64_t h = seed * 0x9E3779B97F4A7C15ull + 17;
    for (auto t : prefix) h = mix64(h ^ std::uint64_t(t + 1));
    std::vector<double> z(V);
    double mx = -1e300;
    for (std::size_t v = 0; v < V; ++v) {
      const std::uint64_t u = mix64(h + v * 0x632BE59BD9B4E019ull);
      z[v] = 3.0 * (double(u >> 11) * 0x1.0p-53) - 1.5;
      mx = std::max(mx, z[v]);
    }
    double s = 0;
    for (double x : z) s += std::exp(x - mx);
    for (std::size_t v = 0; v < V; ++v) out[v] = z[v] - mx - std::log(s);
  }
};

// Every hypothesis up to max_len tokens: eos-terminated, or max_len tokens without eos.
template <class LogProbOf>
hypothesis brute_force(std::size_t V, std::size_t max_len, std::int32_t eos, double alpha, LogProbOf&& row) {
  hypothesis best;
  best.score = -1e300;
  std::vector<std::int32_t> prefix;
  std::vector<double> lp(V);
  std::function<void(double)> walk = [&](double logp) {
    row(prefix, lp.data());
    const std::vector<double> here = lp;
    for (std::size_t v = 0; v < V; ++v) {
      const double q = logp + here[v];
      const bool is_eos = std::int32_t(v) == eos;
      if (is_eos || prefix.size() + 1 == max_len) {
        hypothesis h;
        h.tokens = prefix;
        if (!is_eos) h.tokens.push_back(std::int32_t(v));
        h.ended = is_eos;
        h.log_prob = q;
        h.score = q / length_penalty(h.length(), alpha);
        if (h.score > best.score) best = h;
      } else {
        prefix.push_back(std::int32_t(v));
        walk(q);
        prefix.pop_back();
      }
    }
  };
  walk(0.0);
  return best;
}

}  // namespace

TEST_CASE("beam search wide enough to keep every prefix returns the brute-force best", "[decode]") {
  for (double alpha : {0.0, 0.6, 1.5, -0.5}) {
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
      table_scorer sc;
      sc.seed = seed;
      beam_options o;
      o.eos = 2;
      o.beam = 4 * 4 * 4 * 4;  // >= every candidate of every step: the search is exhaustive
      o.length_penalty = alpha;
      const auto got = beam_search(sc, o);
      const auto want = brute_force(sc.V, sc.max_len, o.eos, alpha,
                                    [&](const std::vector<std::int32_t>& p, double* out) { sc.row(p, out); });
      INFO("alpha " << alpha << " seed " << seed);
      REQUIRE(got.size() == 1);
      REQUIRE(got[0].tokens == want.tokens);
      REQUIRE(got[0].ended == want.ended);
      REQUIRE(got[0].log_prob == Approx(want.log_prob).epsilon(1e-12));
      REQUIRE(got[0].score == Approx(want.score).epsilon(1e-12));
    }
  }
}

TEST_CASE("the bound-based stop never changes an exhaustive result", "[decode]") {
  // Few prefixes survive many steps when eos is likely: the search stops early; the answer must
  // still be the enumeration's best.
  std::size_t stopped_early = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    table_scorer sc;
    sc.seed = seed;
    sc.V = 3;
    sc.max_len = 6;
    sc.K = 1024;
    beam_options o;
    o.eos = 0;
    o.beam = 3 * 243;
    const auto got = beam_search(sc, o);
    const auto want = brute_force(sc.V, sc.max_len, o.eos, 0.0,
                                  [&](const std::vector<std::int32_t>& p, double* out) { sc.row(p, out); });
    REQUIRE(got[0].tokens == want.tokens);
    REQUIRE(got[0].score == Approx(want.score).epsilon(1e-12));
    stopped_early += sc.log_prob_calls < sc.max_len;
  }
  REQUIRE(stopped_early > 0);  // the bound did cut some searches short
}

TEST_CASE("beam search with width 1 is greedy decoding", "[decode]") {
  for (double alpha : {0.0, 1.0}) {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
      table_scorer a, b;
      a.seed = b.seed = seed;
      a.V = b.V = 5;
      a.max_len = b.max_len = 7;
      decode_options g;
      g.eos = 4;
      beam_options o;
      o.eos = 4;
      o.beam = 1;
      o.length_penalty = alpha;
      a.start(1);
      const auto greedy = greedy_decode(a, 1, g);
      const auto beam = beam_search(b, o);
      REQUIRE(beam[0].tokens == greedy[0].tokens);
      REQUIRE(beam[0].ended == greedy[0].ended);
      REQUIRE(beam[0].log_prob == greedy[0].log_prob);  // the same additions in the same order
      REQUIRE(a.log_prob_calls == b.log_prob_calls);
    }
  }
}

namespace {
// A scorer with a greedy trap: token 1 looks best first (0.6) but every continuation of it is
// flat; token 2 (0.4) leads to eos with probability 0.99. V = 3, eos = 0.
struct trap_scorer : table_scorer {
  trap_scorer() {
    V = 3;
    max_len = 3;
  }
  void log_probs(std::span<double> out) {
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      double* o = out.data() + r * V;
      const auto& p = rows_[r];
      if (p.empty()) {
        o[0] = std::log(1e-9), o[1] = std::log(0.6), o[2] = std::log(0.4 - 1e-9);
      } else if (p[0] == 2) {
        o[0] = std::log(0.99), o[1] = std::log(0.005), o[2] = std::log(0.005);
      } else {
        o[0] = o[1] = o[2] = std::log(1.0 / 3.0);
      }
    }
  }
};
}  // namespace

TEST_CASE("a beam of 2 escapes a greedy trap", "[decode]") {
  trap_scorer g, b;
  decode_options go;
  go.eos = 0;
  g.start(1);
  const auto greedy = greedy_decode(g, 1, go);
  beam_options bo;
  bo.eos = 0;
  bo.beam = 2;
  const auto beam = beam_search(b, bo);
  REQUIRE(greedy[0].tokens.front() == 1);
  REQUIRE(beam[0].tokens == std::vector<std::int32_t>{2});
  REQUIRE(beam[0].ended);
  REQUIRE(beam[0].log_prob == Approx(std::log(0.4 - 1e-9) + std::log(0.99)));
  REQUIRE(beam[0].log_prob > greedy[0].log_prob);
}

TEST_CASE("eos ends a hypothesis and is never extended", "[decode]") {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    table_scorer sc;
    sc.seed = seed;
    sc.V = 4;
    sc.max_len = 8;
    beam_options o;
    o.eos = 1;
    o.beam = 3;
    o.n_best = 3;
    const auto hyps = beam_search(sc, o);
    for (auto t : sc.advanced) REQUIRE(t != o.eos);  // no row ever continued past eos
    for (const auto& h : hyps) {
      for (auto t : h.tokens) REQUIRE(t != o.eos);
      REQUIRE((h.ended || h.tokens.size() == sc.max_len));
    }
    for (std::size_t i = 1; i < hyps.size(); ++i) REQUIRE(hyps[i - 1].score >= hyps[i].score);
  }
  // Greedy: a row that produced eos stays finished while the other rows go on.
  table_scorer sc;
  sc.V = 3;
  sc.max_len = 6;
  sc.seed = 3;
  decode_options g;
  g.eos = 0;
  sc.start(1);
  const auto h = greedy_decode(sc, 1, g);
  REQUIRE((h[0].ended || h[0].tokens.size() == 6));
  for (auto t : h[0].tokens) REQUIRE(t != 0);
}

TEST_CASE("max_len is respected and bad options are rejected", "[decode]") {
  table_scorer sc;
  sc.V = 4;
  sc.max_len = 10;
  beam_options o;
  o.eos = 3;
  o.beam = 2;
  o.max_len = 2;
  for (const auto& h : beam_search(sc, o)) REQUIRE(h.length() <= 2);
  o.eos = -1;
  REQUIRE_THROWS_WITH(beam_search(sc, o), Catch::Contains("eos"));
  o.eos = 3;
  o.beam = 0;
  REQUIRE_THROWS_WITH(beam_search(sc, o), Catch::Contains("beam 0"));
  o.beam = 1000;
  REQUIRE_THROWS_WITH(beam_search(sc, o), Catch::Contains("beam 1000"));
}

TEST_CASE("beam search is deterministic", "[decode]") {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    table_scorer a, b;
    a.seed = b.seed = seed;
    a.max_len = b.max_len = 6;
    beam_options o;
    o.eos = 0;
    o.beam = 4;
    o.n_best = 4;
    o.length_penalty = 0.7;
    const auto x = beam_search(a, o), y = beam_search(b, o);
    REQUIRE(x.size() == y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      REQUIRE(x[i].tokens == y[i].tokens);
      REQUIRE(x[i].log_prob == y[i].log_prob);
    }
  }
}
