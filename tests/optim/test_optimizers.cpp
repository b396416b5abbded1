// Optimizers and schedules against torch.optim on recorded gradients (fixture written by
// tests/reference/torch_optim.py): SGD with momentum and Nesterov, Adam with L2 decay, AdamW,
// RMSprop plain and centered with momentum, and AdamW under warm-up + cosine. Every parameter
// after every one of 20 steps matches within 1e-6 relative (max|ours - torch| / max|torch| per
// tensor); the schedule's learning rates match within 1e-12. Also: clipping, decay rules, groups.
#include <catch2/catch.hpp>

#include <ctformer/io/safetensors.hpp>
#include <ctformer/optim/clip.hpp>
#include <ctformer/optim/optimizers.hpp>
#include <ctformer/schedules/schedules.hpp>
#include <ctformer/tensor/tensor.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

using namespace ctformer;

namespace {

struct toy {
  tensor2<float, 6, 5> w;  // a weight: decays
  tensor1<float, 5> b;     // a bias: does not
  tensor2<float, 4, 3> e;  // an embedding: does not
  static constexpr auto fields() {
    return std::tuple{field("w", &toy::w, role::weight), field("b", &toy::b, role::bias),
                      field("e", &toy::e, role::embedding)};
  }
};

const std::string fixture = std::string(CTFORMER_TEST_SOURCE_DIR) + "/reference/fixtures/optim.safetensors";

void read_into(const safetensors::file& f, const std::string& prefix, toy& t) {
  for_each_tensor(t, [&](const tensor_info& info, auto& x) {
    const auto* e = f.find(prefix + info.str());
    REQUIRE(e);
    REQUIRE(e->elements() == x.size());
    std::memcpy(x.data(), f.data(*e), x.size() * sizeof(float));
  });
}

template <class Opt, class Sched>
void check_run(const std::string& run, const Opt& opt, Sched sched) {
  const auto f = safetensors::file::read(fixture);
  auto p = std::make_unique<toy>(), g = std::make_unique<toy>(), ref = std::make_unique<toy>();
  read_into(f, "init.", *p);
  auto st = opt.make_state(*p);
  for (int t = 0; t < 20; ++t) {
    read_into(f, "grad." + std::to_string(t) + ".", *g);
    opt.step(*p, *g, st, sched(t));
    read_into(f, "traj." + run + "." + std::to_string(t) + ".", *ref);
    for_each_tensor(*p, *ref, [&](const tensor_info& info, const auto& a, const auto& b) {
      double num = 0, den = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        num = std::max(num, std::abs(double(a.data()[i]) - double(b.data()[i])));
        den = std::max(den, std::abs(double(b.data()[i])));
      }
      INFO(run << " step " << t << " tensor " << info.str() << " relative difference " << num / den);
      REQUIRE(num / den <= 1e-6);
    });
  }
}

}  // namespace

TEST_CASE("SGD with momentum and Nesterov match torch.optim.SGD", "[parity]") {
  sgd a;
  a.lr = 0.05;
  a.momentum = 0.9;
  a.weight_decay = 0.01;
  check_run("sgd_momentum", a, constant{a.lr});
  a.nesterov = true;
  check_run("sgd_nesterov", a, constant{a.lr});
}

TEST_CASE("Adam (L2) and AdamW (decoupled) match torch.optim", "[parity]") {
  adam a;
  a.lr = 1e-2;
  a.beta2 = 0.99;
  a.weight_decay = 0.01;
  check_run("adam", a, constant{a.lr});
  adamw w;
  w.lr = 1e-2;
  w.beta2 = 0.95;
  w.weight_decay = 0.1;
  check_run("adamw", w, constant{w.lr});
}

TEST_CASE("RMSprop plain and centered with momentum match torch.optim.RMSprop", "[parity]") {
  rmsprop r;
  r.lr = 1e-2;
  r.weight_decay = 0.01;
  check_run("rmsprop", r, constant{r.lr});
  r.alpha = 0.9;
  r.momentum = 0.5;
  r.centered = true;
  check_run("rmsprop_centered", r, constant{r.lr});
}

TEST_CASE("warm-up + cosine matches LinearLR then CosineAnnealingLR, and drives AdamW alike", "[parity]") {
  const warmup_cosine sched{.lr = 1e-2, .warmup = 5, .total = 20, .min_lr = 1e-3};
  const auto f = safetensors::file::read(fixture);
  const auto* e = f.find("lr.adamw_warmup_cosine");
  REQUIRE(e);
  REQUIRE(e->type == safetensors::dtype::F64);
  for (int t = 0; t < 20; ++t) {
    double ref;
    std::memcpy(&ref, f.data(*e) + 8 * t, 8);
    INFO("step " << t << ": ours " << sched(t) << " torch " << ref);
    REQUIRE(std::abs(sched(t) - ref) <= 1e-12 * ref);
  }
  adamw w;
  w.lr = 1e-2;
  w.beta2 = 0.99;
  w.weight_decay = 0.1;
  check_run("adamw_warmup_cosine", w, sched);
}

TEST_CASE("the other schedules follow their formulas", "[optim]") {
  CHECK(step_decay{.lr = 1.0, .step_size = 10, .gamma = 0.5}(25) == 0.25);
  CHECK(exponential{.lr = 2.0, .gamma = 0.5}(3) == 0.25);
  const warmup_linear wl{.lr = 1.0, .warmup = 4, .total = 14, .min_lr = 0.0};
  CHECK(wl(0) == 0.25);
  CHECK(wl(3) == 1.0);
  CHECK(wl(9) == Approx(0.5));
  CHECK(wl(14) == 0.0);
  const warmup_cosine wc{.lr = 1.0, .warmup = 0, .total = 10, .min_lr = 0.1};
  CHECK(wc(0) == Approx(1.0));
  CHECK(wc(5) == Approx(0.55));
  CHECK(wc(10) == 0.1);
}

TEST_CASE("clip_grad_norm returns the norm before clipping and leaves at most max_norm", "[optim]") {
  auto g = std::make_unique<toy>();
  double sq = 0;
  float k = 0.1f;
  for_each_tensor(*g, [&](const tensor_info&, auto& t) {
    for (auto& v : t) {
      k += 0.37f;
      v = k * (int(k * 10) % 2 ? 1.f : -1.f);
      sq += double(v) * double(v);
    }
  });
  const double independent = std::sqrt(sq);  // computed here, element by element, in double
  const double before = clip_grad_norm(*g, 1.5);
  CHECK(before == Approx(independent).epsilon(1e-6));
  CHECK(grad_norm(*g) <= 1.5 + 1e-6);
  CHECK(grad_norm(*g) == Approx(1.5).epsilon(1e-5));
  // Under the limit nothing changes.
  auto h = std::make_unique<toy>(*g);
  CHECK(clip_grad_norm(*h, 100.0) == Approx(1.5).epsilon(1e-5));
  CHECK(std::memcmp(h->w.data(), g->w.data(), sizeof(float) * 30) == 0);
}

TEST_CASE("decay rules and parameter groups choose per tensor", "[optim]") {
  auto p = std::make_unique<toy>();
  auto g = std::make_unique<toy>();
  for_each_tensor(*p, [](const tensor_info&, auto& t) { t.fill(1.f); });
  for_each_tensor(*g, [](const tensor_info&, auto& t) { t.fill(0.f); });
  sgd s;
  s.lr = 0.1;
  s.weight_decay = 0.5;
  auto st = s.make_state(*p);
  s.step(*p, *g, st, s.lr);
  CHECK(p->w(0, 0) == Approx(1 - 0.1 * 0.5));  // weights decay
  CHECK(p->b(0) == 1.f);                       // biases do not
  CHECK(p->e(0, 0) == 1.f);                    // embeddings do not
  s.decay = decay_rule::all();
  s.groups = {param_group{.prefixes = {"e"}, .frozen = true}, param_group{.prefixes = {"b"}, .lr_scale = 2.0f}};
  for_each_tensor(*p, [](const tensor_info&, auto& t) { t.fill(1.f); });
  auto st2 = s.make_state(*p);
  s.step(*p, *g, st2, s.lr);
  CHECK(p->w(0, 0) == Approx(0.95));
  CHECK(p->b(0) == Approx(1 - 0.2 * 0.5));  // twice the learning rate
  CHECK(p->e(0, 0) == 1.f);                 // frozen
  sgd bad;
  bad.nesterov = true;
  CHECK_THROWS_WITH(bad.make_state(*p), "sgd: Nesterov momentum needs momentum > 0 and no dampening");
}
