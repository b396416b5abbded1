// Gradient checks in double for every layer and loss on its own: central differences on every
// parameter and every input, reduced to one number L = sum(y * r) with a fixed random r.
// Covers linear, layernorm, GELU/ReLU, embedding and positions, dropout (train mode, fixed masks),
// attention (self, causal, cross; padding masks; probability dropout), whole blocks (GPT-2 pre-LN
// causal, BERT post-LN, BART cross-attention pre- and post-LN, with dropout), and the losses
// (cross-entropy with ignore index and label smoothing, weighted MSE, BCE with logits).
// Tolerance: |num - ana| <= 1e-9 + 1e-6 * max(|num|, |ana|), with h = 1e-5.
#include <catch2/catch.hpp>

#include <ctformer/layers/attention.hpp>
#include <ctformer/layers/block.hpp>
#include <ctformer/layers/dropout.hpp>
#include <ctformer/layers/embedding.hpp>
#include <ctformer/layers/layernorm.hpp>
#include <ctformer/layers/linear.hpp>
#include <ctformer/losses/bce.hpp>
#include <ctformer/losses/cross_entropy.hpp>
#include <ctformer/losses/mse.hpp>
#include <ctformer/models/init.hpp>
#include <ctformer/tensor/kernels/activation.hpp>

#include "support/gradcheck.hpp"

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace ctformer;

namespace {

// One differentiable quantity: its values and the analytic gradient backward wrote.
struct probe {
  std::string name;
  double* x;
  const double* dx;
  std::size_t n;
};

struct harness {
  std::vector<probe> probes;
  std::function<double()> loss;        // forward, then sum(y * r)
  std::function<void()> zero_and_back;  // zero all gradients, forward, backward with dy = r

  void check(double rtol = 1e-6, double atol = 1e-9, double h = 1e-5) {
    zero_and_back();
    // Copy the analytic gradients first: the loss evaluations below may overwrite them.
    for (auto& p : probes) {
      const std::vector<double> analytic(p.dx, p.dx + p.n);
      testing::grad_report r;
      testing::check_values(r, p.name, p.x, analytic.data(), p.n, loss, rtol, atol, h);
      INFO(p.name << ": worst at " << r.where << ": numeric " << r.num << " analytic " << r.ana << " ("
                  << r.checked << " values)");
      REQUIRE(r.worst <= 1.0);
    }
  }
};

std::vector<double> randv(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  rng r(seed);
  std::vector<double> v(n);
  for (auto& x : v) x = scale * r.normal();
  return v;
}

double dotv(const double* a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

template <class P>
void add_param_probes(harness& h, P& p, P& g, const std::string& prefix = "") {
  std::vector<double*> ws, gs;
  for_each_tensor(p, g, [&](const tensor_info& info, auto& w, auto& dw) {
    h.probes.push_back({prefix + info.str(), w.data(), dw.data(), w.size()});
  });
}

}  // namespace

TEST_CASE("linear: gradients of input, weight and bias", "[grad]") {
  constexpr std::size_t R = 3, I = 5, O = 4;
  auto p = std::make_unique<linear_params<double, I, O>>();
  auto g = std::make_unique<linear_params<double, I, O>>();
  initialize(*p, init_scheme::xavier_normal, 0, 1, 1);
  for (auto& b : p->bias) b = 0.3;
  auto x = randv(R * I, 2), dx = std::vector<double>(R * I), r = randv(R * O, 3), y = std::vector<double>(R * O);
  harness h;
  h.loss = [&] {
    linear_forward(y.data(), O, x.data(), I, R, *p);
    return dotv(y.data(), r);
  };
  h.zero_and_back = [&] {
    zero(*g);
    std::fill(dx.begin(), dx.end(), 0.0);
    h.loss();
    linear_backward(dx.data(), I, write_mode::accumulate, *g, r.data(), O, x.data(), I, R, *p);
  };
  h.probes.push_back({"x", x.data(), dx.data(), x.size()});
  add_param_probes(h, *p, *g);
  h.check();
}

TEST_CASE("layernorm: gradients of input, scale and shift", "[grad]") {
  constexpr std::size_t R = 4, C = 7;
  auto p = std::make_unique<layernorm_params<double, C>>();
  auto g = std::make_unique<layernorm_params<double, C>>();
  auto w0 = randv(C, 4, 0.5), b0 = randv(C, 5, 0.5);
  for (std::size_t i = 0; i < C; ++i) {
    p->weight(i) = 1 + w0[i];
    p->bias(i) = b0[i];
  }
  auto x = randv(R * C, 6, 2.0), dx = std::vector<double>(R * C), r = randv(R * C, 7);
  std::vector<double> y(R * C), mean(R), rstd(R);
  harness h;
  h.loss = [&] {
    layernorm_forward<double, R, C>(out<double, R, C>(y.data()), cache<double, R>(mean.data()),
                                    cache<double, R>(rstd.data()), in<double, R, C>(x.data()), *p, 1e-5);
    return dotv(y.data(), r);
  };
  h.zero_and_back = [&] {
    zero(*g);
    std::fill(dx.begin(), dx.end(), 0.0);
    h.loss();
    layernorm_backward<double, R, C>(inout<double, R, C>(dx.data()), *g, in<double, R, C>(r.data()),
                                     in<double, R, C>(x.data()), *p, in<double, R>(mean.data()),
                                     in<double, R>(rstd.data()));
  };
  h.probes.push_back({"x", x.data(), dx.data(), x.size()});
  add_param_probes(h, *p, *g);
  h.check();
}

TEST_CASE("GELU and ReLU: gradients of the input", "[grad]") {
  const std::size_t n = 19;
  for (bool gelu : {true, false}) {
    auto x = randv(n, 8, 2.0), dx = std::vector<double>(n), r = randv(n, 9), y = std::vector<double>(n);
    for (auto& v : x)
      if (std::abs(v) < 1e-3) v = 0.5;  // keep ReLU away from its kink
    harness h;
    h.loss = [&] {
      gelu ? kernels::gelu_forward(y.data(), x.data(), n) : kernels::relu_forward(y.data(), x.data(), n);
      return dotv(y.data(), r);
    };
    h.zero_and_back = [&] {
      gelu ? kernels::gelu_backward(dx.data(), r.data(), x.data(), n, false)
           : kernels::relu_backward(dx.data(), r.data(), x.data(), n, false);
    };
    h.probes.push_back({gelu ? "gelu.x" : "relu.x", x.data(), dx.data(), n});
    h.check();
  }
}

TEST_CASE("embedding, learned positions and sinusoidal positions: table gradients", "[grad]") {
  constexpr std::size_t V = 6, C = 4, B = 2, S = 3, Ctx = 5;
  auto table = randv(V * C, 10), dtable = std::vector<double>(V * C);
  auto pos = randv(Ctx * C, 11), dpos = std::vector<double>(Ctx * C);
  const std::int32_t ids[B * S] = {1, 4, 1, 0, 5, 2};
  auto r = randv(B * S * C, 12);
  std::vector<double> y(B * S * C);
  harness h;
  h.loss = [&] {
    embedding_forward<double, B * S, V, C>(out<double, B * S, C>(y.data()), in<std::int32_t, B * S>(ids),
                                           in<double, V, C>(table.data()), 1.7);
    positions_forward<double, B, S, Ctx, C>(inout<double, B * S, C>(y.data()), in<double, Ctx, C>(pos.data()), 1);
    const auto& sin = sinusoidal_table<double, Ctx, C>();
    for (std::size_t i = 0; i < y.size(); ++i) y[i] += sin.data()[i % (Ctx * C)];
    return dotv(y.data(), r);
  };
  h.zero_and_back = [&] {
    std::fill(dtable.begin(), dtable.end(), 0.0);
    std::fill(dpos.begin(), dpos.end(), 0.0);
    embedding_backward<double, B * S, V, C>(inout<double, V, C>(dtable.data()), in<double, B * S, C>(r.data()),
                                            in<std::int32_t, B * S>(ids), 1.7);
    positions_backward<double, B, S, Ctx, C>(inout<double, Ctx, C>(dpos.data()), in<double, B * S, C>(r.data()), 1);
  };
  h.probes.push_back({"table", table.data(), dtable.data(), table.size()});
  h.probes.push_back({"positions", pos.data(), dpos.data(), pos.size()});
  h.check();
  // Ids outside the vocabulary are bad input.
  const std::int32_t bad[B * S] = {1, 4, 6, 0, 5, 2};
  CHECK_THROWS_WITH((embedding_forward<double, B * S, V, C>(out<double, B * S, C>(y.data()), in<std::int32_t, B * S>(bad),
                                                            in<double, V, C>(table.data()))),
                    "token id 6 at position 2 is outside the vocabulary (size 6)");
}

TEST_CASE("dropout: train-mode gradient follows the kept mask, eval is the identity", "[grad]") {
  const std::size_t n = 64;
  auto x = randv(n, 13), dx = std::vector<double>(n), r = randv(n, 14);
  std::vector<double> y(n), mask(n);
  const auto mode = run_mode::training(99, 3);
  harness h;
  h.loss = [&] {
    dropout_forward(y.data(), mask.data(), x.data(), n, 0.25f, mode, 5);
    return dotv(y.data(), r);
  };
  h.zero_and_back = [&] {
    std::fill(dx.begin(), dx.end(), 0.0);
    h.loss();
    dropout_backward(dx.data(), r.data(), mask.data(), n);
  };
  h.probes.push_back({"x", x.data(), dx.data(), n});
  h.check();
  std::size_t dropped = 0;
  for (double m : mask) dropped += m == 0;
  CHECK(dropped > 4);
  CHECK(dropped < 32);
  // Same seed, step and site: same mask; another step: another mask.
  std::vector<double> mask2(n), y2(n);
  dropout_forward(y2.data(), mask2.data(), x.data(), n, 0.25f, mode, 5);
  CHECK(mask2 == mask);
  dropout_forward(y2.data(), mask2.data(), x.data(), n, 0.25f, run_mode::training(99, 4), 5);
  CHECK(mask2 != mask);
}

namespace {

// Attention over q (B*Sq, C), k and v (B*Sk, C) with a mask; all three get gradients.
template <std::size_t B, std::size_t Sq, std::size_t Sk, std::size_t H, std::size_t D>
void check_attention(const std::int32_t* key_mask, bool causal, float p_drop) {
  constexpr std::size_t C = H * D;
  auto q = randv(B * Sq * C, 20), k = randv(B * Sk * C, 21), v = randv(B * Sk * C, 22);
  std::vector<double> dq(q.size()), dk(k.size()), dv(v.size()), y(B * Sq * C), att(B * H * Sq * Sk),
      datt(att.size()), dmask(att.size()), dropped(att.size());
  auto r = randv(y.size(), 23);
  const auto mode = p_drop > 0 ? run_mode::training(5, 1) : run_mode::eval();
  attention_dropout<double> drop{p_drop, dmask.data(), dropped.data(), 3};
  const attention_mask m{key_mask, causal, 0};
  harness h;
  h.loss = [&] {
    attention_forward<double, B, Sq, Sk, H, D>(y.data(), att.data(), {q.data(), C, k.data(), C, v.data(), C}, m,
                                               mode, drop);
    return dotv(y.data(), r);
  };
  h.zero_and_back = [&] {
    for (auto* d : {&dq, &dk, &dv}) std::fill(d->begin(), d->end(), 0.0);
    h.loss();
    attention_backward<double, B, Sq, Sk, H, D>({dq.data(), C, dk.data(), C, dv.data(), C}, datt.data(), r.data(),
                                                att.data(), {q.data(), C, k.data(), C, v.data(), C}, m, mode, drop);
  };
  h.probes.push_back({"q", q.data(), dq.data(), q.size()});
  h.probes.push_back({"k", k.data(), dk.data(), k.size()});
  h.probes.push_back({"v", v.data(), dv.data(), v.size()});
  h.check();
  // Padded keys get exactly zero weight.
  if (key_mask)
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t hh = 0; hh < H; ++hh)
        for (std::size_t i = 0; i < Sq; ++i)
          for (std::size_t j = 0; j < Sk; ++j)
            if (!key_mask[b * Sk + j]) REQUIRE(att[((b * H + hh) * Sq + i) * Sk + j] == 0.0);
}

}  // namespace

TEST_CASE("attention: self, causal and cross, with padding masks and dropout", "[grad]") {
  const std::int32_t mask5[2 * 5] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
  const std::int32_t mask3[2 * 3] = {1, 1, 1, 1, 0, 1};  // an interior padded key too
  SECTION("self, no mask") { check_attention<2, 5, 5, 2, 3>(nullptr, false, 0.0f); }
  SECTION("self, padding mask") { check_attention<2, 5, 5, 2, 3>(mask5, false, 0.0f); }
  SECTION("causal with padding") { check_attention<2, 5, 5, 2, 3>(mask5, true, 0.0f); }
  SECTION("cross (4 queries over 3 keys) with padding") { check_attention<2, 4, 3, 2, 3>(mask3, false, 0.0f); }
  SECTION("causal with probability dropout") { check_attention<2, 5, 5, 2, 3>(mask5, true, 0.3f); }
}

namespace {

template <family Fam, norm_placement Norm, activation Act, bool Causal, bool Cross, bool Drop>
void check_block() {
  constexpr std::size_t B = 2, S = 4, C = 6, F = 8, H = 2, Ss = 3;
  using Sp = block_spec<double, B, S, C, F, H, Norm, Act, Causal, Cross, Ss, Drop>;
  using P = block_params<double, C, F, Fam, Cross>;
  auto p = std::make_unique<P>();
  auto g = std::make_unique<P>();
  auto c = std::make_unique<block_cache<Sp>>();
  auto w = std::make_unique<block_scratch<Sp>>();
  initialize(*p, init_scheme::normal, 0.4, 1, 17);
  for_each_tensor(*p, [&](const tensor_info& info, auto& t) {
    if (info.role == role::norm || info.role == role::bias) {
      auto n = randv(t.size(), t.size(), 0.2);
      for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] += n[i];
    }
  });
  auto x = randv(B * S * C, 30), dx = std::vector<double>(x.size()), r = randv(x.size(), 31);
  auto enc = randv(B * Ss * C, 32), denc = std::vector<double>(enc.size());
  std::vector<double> y(x.size()), dy(x.size());
  const std::int32_t key_mask[B * S] = {1, 1, 1, 1, 1, 1, 1, 0};
  const std::int32_t src_mask[B * Ss] = {1, 1, 1, 1, 1, 0};
  block_context<double> ctx;
  ctx.key_mask = key_mask;
  ctx.enc = enc.data();
  ctx.src_mask = src_mask;
  ctx.denc = denc.data();
  ctx.mode = Drop ? run_mode::training(3, 2) : run_mode::eval();
  ctx.site = 4;
  harness h;
  h.loss = [&] {
    block_forward<Sp, Fam>(y.data(), x.data(), *p, *c, ctx, Drop ? 0.2f : 0.0f, 1e-5);
    return dotv(y.data(), r);
  };
  h.zero_and_back = [&] {
    zero(*g);
    std::fill(dx.begin(), dx.end(), 0.0);
    std::fill(denc.begin(), denc.end(), 0.0);
    h.loss();
    dy = r;
    block_backward<Sp, Fam>(dx.data(), dy.data(), *g, x.data(), *p, *c, *w, ctx, Drop ? 0.2f : 0.0f);
  };
  h.probes.push_back({"x", x.data(), dx.data(), x.size()});
  if constexpr (Cross) h.probes.push_back({"encoder_output", enc.data(), denc.data(), enc.size()});
  add_param_probes(h, *p, *g);
  h.check();
}

}  // namespace

TEST_CASE("transformer blocks: every parameter and input, with masks, cross-attention and dropout", "[grad]") {
  SECTION("GPT-2 pre-LN causal GELU") { check_block<family::gpt2, norm_placement::pre, activation::gelu, true, false, false>(); }
  SECTION("GPT-2 post-LN causal ReLU with dropout") { check_block<family::gpt2, norm_placement::post, activation::relu, true, false, true>(); }
  SECTION("BERT post-LN bidirectional GELU") { check_block<family::bert, norm_placement::post, activation::gelu, false, false, false>(); }
  SECTION("BART pre-LN cross-attention") { check_block<family::bart, norm_placement::pre, activation::relu, true, true, false>(); }
  SECTION("BART post-LN cross-attention with dropout") { check_block<family::bart, norm_placement::post, activation::gelu, true, true, true>(); }
}

TEST_CASE("losses: cross-entropy (ignore index, label smoothing), MSE and BCE", "[grad]") {
  SECTION("cross-entropy") {
    constexpr std::size_t N = 5, V = 7;
    auto x = randv(N * V, 40, 2.0), dx = std::vector<double>(x.size());
    const std::int32_t t[N] = {3, ignore_index, 0, 6, 2};
    for (double eps : {0.0, 0.15}) {
      std::vector<double> probs(x.size()), rl(N);
      harness h;
      h.loss = [&] {
        probs = x;
        return cross_entropy_forward<double>(probs.data(), rl.data(), t, N, V, eps).loss;
      };
      h.zero_and_back = [&] {
        probs = x;
        const auto lv = cross_entropy_forward<double>(probs.data(), rl.data(), t, N, V, eps);
        CHECK(lv.count == 4);
        cross_entropy_backward<double>(probs.data(), t, N, V, 1.0 / double(lv.count), eps);
        dx = probs;
      };
      h.probes.push_back({"logits", x.data(), dx.data(), x.size()});
      h.check();
      for (std::size_t j = 0; j < V; ++j) CHECK(dx[1 * V + j] == 0.0);  // the ignored row
    }
  }
  SECTION("MSE with row weights") {
    constexpr std::size_t N = 6;
    auto y = randv(N, 41), t = randv(N, 42), dy = std::vector<double>(N);
    const double w[N] = {1, 0, 2, 1, 0.5, 1};
    harness h;
    h.loss = [&] { return mse_forward<double>(y.data(), t.data(), N, w).loss; };
    h.zero_and_back = [&] { mse_backward<double>(dy.data(), y.data(), t.data(), N, w); };
    h.probes.push_back({"y", y.data(), dy.data(), N});
    h.check();
  }
  SECTION("BCE with logits, soft targets and weights") {
    constexpr std::size_t N = 6;
    auto x = randv(N, 43, 3.0), dx = std::vector<double>(N);
    const double t[N] = {1, 0, 0.3, 1, 0, 0.9};
    const double w[N] = {1, 1, 2, 0, 1, 1};
    harness h;
    h.loss = [&] { return bce_with_logits_forward<double>(x.data(), t, N, w).loss; };
    h.zero_and_back = [&] { bce_with_logits_backward<double>(dx.data(), x.data(), t, N, w); };
    h.probes.push_back({"logits", x.data(), dx.data(), N});
    h.check();
    // Stable for large logits: no overflow, the right limit.
    const double big[2] = {800.0, -800.0}, tt[2] = {0.0, 1.0};
    CHECK(bce_with_logits_forward<double>(big, tt, 2).loss == Approx(800.0));
  }
  SECTION("non-finite losses and out-of-range targets are reported") {
    double x[3] = {1, std::nan(""), 2}, rl[1];
    const std::int32_t t[1] = {0};
    CHECK_THROWS_WITH(cross_entropy_forward<double>(x, rl, t, 1, 3), Catch::Contains("not finite"));
    double x2[3] = {1, 2, 3};
    const std::int32_t bad[1] = {3};
    CHECK_THROWS_WITH(cross_entropy_forward<double>(x2, rl, bad, 1, 3), "cross_entropy: target 3 at row 0 is outside [0, 3)");
  }
}
