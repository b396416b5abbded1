// The seq2seq scorer on small random models: the cached engine (self and cross K/V caches) gives
// the recompute engine's log-probabilities along any path, beams reorder rows correctly, a wide
// beam finds the best sequence by teacher-forced enumeration, beam 1 is greedy, results do not
// depend on the thread count, and a batch of greedy rows equals each row decoded alone.
#include <catch2/catch.hpp>

#include <ctformer/deploy/seq2seq_decode.hpp>
#include <ctformer/models/init.hpp>
#include <ctformer/models/seq2seq.hpp>
#include <ctformer/tensor/threading.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

using namespace ctformer;

namespace {

// Specials: pad 0, bos 1, eos 2; ordinary tokens from 3.
constexpr seq2seq_specials sp{1, 2, 0};

constexpr seq2seq_config pre_cfg{.src_vocab = 11, .tgt_vocab = 9, .src_context = 6, .tgt_context = 7,
                                 .d_model = 16, .heads = 2, .d_ff = 24, .enc_layers = 2, .dec_layers = 2};
constexpr seq2seq_config post_cfg{.src_vocab = 11, .tgt_vocab = 9, .src_context = 6, .tgt_context = 7,
                                  .d_model = 16, .heads = 4, .d_ff = 20, .enc_layers = 1, .dec_layers = 3,
                                  .norm = norm_placement::post, .act = activation::gelu,
                                  .pos = positional::learned, .tied_head = false};

// Random weights, large enough that the distributions are far from uniform.
template <class M>
std::unique_ptr<typename M::params> random_model(std::uint64_t seed) {
  auto p = std::make_unique<typename M::params>();
  initialize(*p, init_scheme::normal, 0.35, 2, seed);
  for_each_tensor(*p, [&](const tensor_info& info, auto& t) {
    if (info.role == role::norm) {
      rng r(seed + t.size());
      for (auto& v : t) v = 1.0f + 0.3f * float(r.normal());
    }
  });
  return p;
}

std::vector<std::vector<std::int32_t>> sources() {
  return {{3, 4, 5}, {7, 3}, {10, 9, 8, 7, 6}, {5}};
}

// Feeds a fixed random path (with beam-like reordering) to both engines and compares every
// log-probability.
template <class M>
void engines_agree(std::uint64_t seed) {
  constexpr std::size_t K = 3;
  auto p = random_model<M>(seed);
  seq2seq_scorer<M, K, 6, 7, decode_engine::cached> a(*p, sp);
  seq2seq_scorer<M, K, 6, 7, decode_engine::recompute> b(*p, sp);
  const auto src = sources();
  rng r(seed);
  for (int mode = 0; mode < 2; ++mode) {
    std::size_t n;
    if (mode == 0) {  // one source, rows reordered as a beam would
      a.set_source(src[2]);
      b.set_source(src[2]);
      n = 1;
    } else {          // three sources, one per row, in place
      a.set_sources(std::span(src).first(3));
      b.set_sources(std::span(src).first(3));
      n = 3;
    }
    a.start(n);
    b.start(n);
    std::vector<double> la(K * M::Vt), lb(K * M::Vt);
    for (std::size_t t = 0; t < 6; ++t) {
      a.log_probs(la);
      b.log_probs(lb);
      for (std::size_t i = 0; i < n * M::Vt; ++i) REQUIRE(la[i] == Approx(lb[i]).margin(2e-5));
      const std::size_t next_n = mode == 0 ? std::min<std::size_t>(K, n + 1) : n;
      std::vector<std::size_t> parent(next_n);
      std::vector<std::int32_t> tok(next_n);
      for (std::size_t j = 0; j < next_n; ++j) {
        parent[j] = mode == 0 ? std::size_t(r.below(n)) : j;
        tok[j] = std::int32_t(r.below(M::Vt));
      }
      a.advance(parent, tok);
      b.advance(parent, tok);
      n = next_n;
    }
  }
}

// log P(y | x) by one teacher-forced forward pass (the training code path).
template <class M>
double teacher_forced(const typename M::params& p, const std::vector<std::int32_t>& src, const hypothesis& h) {
  constexpr std::size_t Ss = 6, St = 7;
  auto ws = std::make_unique<typename M::template workspace<1, Ss, St>>();
  auto b = std::make_unique<seq2seq_batch<1, Ss, St>>();
  const seq2seq_example ex{src, h.tokens};
  batch_rows<1> rows;
  rows.count = 1;
  fill_batch(*b, std::span<const seq2seq_example>(&ex, 1), rows, sp);
  M::forward(p, *ws, *b, run_mode::eval());
  std::vector<double> lp(M::Vt);
  double sum = 0;
  for (std::size_t i = 0; i < h.length(); ++i) {
    detail::log_softmax_row(lp.data(), ws->logits.data() + i * M::Vt, M::Vt);
    sum += lp[std::size_t(b->tgt_out(0, i))];
  }
  return sum;
}

}  // namespace

TEST_CASE("cached decoding gives the recompute engine's log-probabilities (pre-LN, tied, sinusoidal)", "[decode]") {
  engines_agree<seq2seq<pre_cfg>>(5);
  engines_agree<seq2seq<pre_cfg>>(6);
}

TEST_CASE("cached decoding gives the recompute engine's log-probabilities (post-LN, untied, learned)", "[decode]") {
  engines_agree<seq2seq<post_cfg>>(7);
  engines_agree<seq2seq<post_cfg>>(8);
}

TEST_CASE("a wide beam over a real model finds the teacher-forced best sequence", "[decode]") {
  // Vocabulary 9 with eos, max 3 tokens: at most 8 * 8 live prefixes, 64 * 9 candidates.
  using M = seq2seq<pre_cfg>;
  constexpr std::size_t K = 8 * 8 * 9;
  for (std::uint64_t seed : {11, 12, 13}) {
    auto p = random_model<M>(seed);
    auto sc = std::make_unique<seq2seq_scorer<M, K, 6, 7>>(*p, sp);
    for (const auto& src : sources()) {
      sc->set_source(src);
      for (double alpha : {0.0, 1.0}) {
        beam_options o;
        o.eos = sp.eos;
        o.beam = K;
        o.max_len = 3;
        o.length_penalty = alpha;
        const auto got = beam_search(*sc, o)[0];
        // Enumerate every hypothesis and score it with the full forward pass.
        hypothesis best;
        best.score = -1e300;
        std::vector<std::int32_t> y;
        std::function<void()> walk = [&] {
          for (std::int32_t v = 0; v < std::int32_t(M::Vt); ++v) {
            hypothesis h;
            h.tokens = y;
            h.ended = v == sp.eos;
            if (!h.ended) h.tokens.push_back(v);
            if (h.ended || h.tokens.size() == 3) {
              h.log_prob = teacher_forced<M>(*p, src, h);
              h.score = h.log_prob / length_penalty(h.length(), alpha);
              if (h.score > best.score) best = h;
            } else {
              y.push_back(v);
              walk();
              y.pop_back();
            }
          }
        };
        walk();
        INFO("seed " << seed << " alpha " << alpha);
        REQUIRE(got.tokens == best.tokens);
        REQUIRE(got.ended == best.ended);
        REQUIRE(got.log_prob == Approx(best.log_prob).margin(1e-4));
      }
    }
  }
}

TEST_CASE("beam 1 equals greedy on a model; a greedy batch equals rows decoded alone", "[decode]") {
  using M = seq2seq<post_cfg>;
  auto p = random_model<M>(21);
  seq2seq_scorer<M, 4, 6, 7> sc(*p, sp);
  const auto src = sources();
  decode_options g;
  g.eos = sp.eos;
  sc.set_sources(src);
  const auto batch = greedy_decode(sc, src.size(), g);
  for (std::size_t i = 0; i < src.size(); ++i) {
    sc.set_source(src[i]);
    const auto alone = greedy_decode(sc, 1, g);
    beam_options o;
    o.eos = sp.eos;
    o.beam = 1;
    const auto beam = beam_search(sc, o);
    REQUIRE(alone[0].tokens == batch[i].tokens);
    REQUIRE(alone[0].log_prob == Approx(batch[i].log_prob).margin(1e-5));
    REQUIRE(beam[0].tokens == alone[0].tokens);
    REQUIRE(beam[0].log_prob == alone[0].log_prob);
  }
}

TEST_CASE("decoding is deterministic and independent of the thread count", "[decode]") {
  using M = seq2seq<pre_cfg>;
  auto p = random_model<M>(31);
  seq2seq_scorer<M, 5, 6, 7> sc(*p, sp);
  beam_options o;
  o.eos = sp.eos;
  o.beam = 5;
  o.n_best = 5;
  o.length_penalty = 0.6;
  auto run = [&] {
    std::vector<hypothesis> all;
    for (const auto& s : sources()) {
      sc.set_source(s);
      for (auto& h : beam_search(sc, o)) all.push_back(h);
    }
    return all;
  };
  const unsigned before = num_threads();
  set_num_threads(1);
  const auto a = run();
  const auto b = run();
  set_num_threads(2);
  const auto c = run();
  set_num_threads(before);
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() == c.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].tokens == b[i].tokens);
    REQUIRE(a[i].log_prob == b[i].log_prob);
    REQUIRE(a[i].tokens == c[i].tokens);
    REQUIRE(a[i].log_prob == c[i].log_prob);
  }
}

TEST_CASE("the scorer rejects misuse with clear messages", "[decode]") {
  using M = seq2seq<pre_cfg>;
  auto p = random_model<M>(41);
  seq2seq_scorer<M, 2, 6, 7> sc(*p, sp);
  REQUIRE_THROWS_WITH(sc.start(1), Catch::Contains("set_sources"));
  const auto src = sources();
  REQUIRE_THROWS_WITH(sc.set_sources(src), Catch::Contains("4 sources"));
  sc.set_sources(std::span(src).first(2));
  REQUIRE_THROWS_WITH(sc.start(1), Catch::Contains("one row per source"));
  sc.start(2);
  std::vector<double> lp(2 * M::Vt);
  sc.log_probs(lp);
  const std::vector<std::size_t> parent{0, 5};
  const std::vector<std::int32_t> tok{3, 3};
  REQUIRE_THROWS_WITH(sc.advance(parent, tok), Catch::Contains("parent 5"));
  REQUIRE_THROWS_WITH((seq2seq_scorer<M, 2, 6, 7>(*p, seq2seq_specials{-1, 2, 0})), Catch::Contains("bos"));
}
