// The training step and fit(): a tiny model overfits one batch; 4 micro-batches of 2 give the
// update of 1 batch of 8; runs are bit-identical for the same seed and for 1 and 2 threads; a NaN
// loss fails cleanly without touching the weights; fit() evaluates, stops early, keeps the best
// weights, logs JSON lines and stops politely on Ctrl-C.
#include <catch2/catch.hpp>

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

#include "support/same_bits.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include "support/test_support.hpp"

using namespace ctformer;
using testing::same_bits;

namespace {

constexpr gpt_config tiny{.vocab = 16, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 2};
constexpr gpt_config tiny_drop{.vocab = 16, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 2,
                               .dropout = 0.1f};
using M = decoder_lm<tiny>;
constexpr std::size_t S = 8;

// Row r of a deterministic toy corpus: a repeating pattern shifted by r, next-token targets.
// The next token is the current one plus `step` (mod 16).
template <std::size_t B>
void make_batch(token_batch<B, S>& b, std::size_t first_row, std::size_t step = 5) {
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t s = 0; s < S; ++s) {
      const std::size_t r = first_row + i;
      b.ids(i, s) = std::int32_t((r * 3 + s * step) % 16);
      b.targets(i, s) = (s + r) % 7 == 6 ? ignore_index : std::int32_t((r * 3 + (s + 1) * step) % 16);
      b.attention_mask(i, s) = 1;
      b.token_type(i, s) = 0;
    }
}

template <class P>
double max_rel_diff(const P& a, const P& b) {
  double worst = 0;
  for_each_tensor(a, b, [&](const tensor_info&, const auto& x, const auto& y) {
    double num = 0, den = 1e-6;
    for (std::size_t i = 0; i < x.size(); ++i) {
      num = std::max(num, std::abs(double(x.data()[i]) - double(y.data()[i])));
      den = std::max(den, std::abs(double(y.data()[i])));
    }
    worst = std::max(worst, num / den);
  });
  return worst;
}

}  // namespace

TEST_CASE("a tiny model overfits one batch", "[train]") {
  adamw opt;
  opt.lr = 1e-2;
  opt.weight_decay = 0.0;
  trainer<M, adamw> t(opt);
  auto b = std::make_unique<token_batch<4, S>>();
  make_batch(*b, 0);
  auto ws = std::make_unique<M::workspace<4, S>>();
  const double first = t.train_step(*b, *ws).loss;
  double last = first;
  for (int i = 0; i < 200; ++i) last = t.train_step(*b, *ws).loss;
  INFO("loss " << first << " -> " << last);
  CHECK(first > 2.0);
  CHECK(last < 0.05);
  CHECK(t.steps_done() == 201);
}

TEST_CASE("4 micro-batches of 2 give the update of 1 batch of 8", "[train]") {
  sgd opt;
  opt.lr = 0.5;
  train_options o;
  o.clip = 0;  // compare raw gradients
  trainer<M, sgd> big(opt, {0.5}, o), small(opt, {0.5}, o);
  auto b8 = std::make_unique<token_batch<8, S>>();
  make_batch(*b8, 0);
  std::vector<token_batch<2, S>> b2(4);
  for (std::size_t k = 0; k < 4; ++k) make_batch(b2[k], 2 * k);
  auto ws8 = std::make_unique<M::workspace<8, S>>();
  auto ws2 = std::make_unique<M::workspace<2, S>>();
  const auto s8 = big.train_step(*b8, *ws8);
  const auto s2 = small.train_step(std::span<const token_batch<2, S>>(b2), *ws2);
  CHECK(s8.targets == s2.targets);
  CHECK(s2.loss == Approx(s8.loss).epsilon(1e-6));
  CHECK(s2.grad_norm == Approx(s8.grad_norm).epsilon(1e-5));
  const double gdiff = max_rel_diff(small.grads(), big.grads());
  const double wdiff = max_rel_diff(small.weights(), big.weights());
  INFO("gradient difference " << gdiff << ", weight difference " << wdiff);
  CHECK(gdiff <= 1e-5);
  CHECK(wdiff <= 1e-6);
}

TEST_CASE("training is bit-identical for the same seed and for 1 and 2 threads", "[train]") {
  using D = decoder_lm<tiny_drop>;
  auto run = [](unsigned threads) {
    set_num_threads(threads);
    auto t = std::make_unique<trainer<D, adamw, warmup_cosine>>(adamw{}, warmup_cosine{.lr = 1e-2, .warmup = 3, .total = 10});
    auto b = std::make_unique<token_batch<4, S>>();
    auto ws = std::make_unique<D::workspace<4, S>>();
    for (int i = 0; i < 10; ++i) {
      make_batch(*b, std::size_t(i));
      t->train_step(*b, *ws);
    }
    set_num_threads(1);
    return t;
  };
  auto a = run(1), b = run(1), c = run(2);
  CHECK(same_bits(a->weights(), b->weights()));
  CHECK(same_bits(a->weights(), c->weights()));
  // Dropout was on: a different seed gives different weights.
  set_num_threads(1);
  train_options o;
  o.seed = 99;
  trainer<D, adamw, warmup_cosine> d(adamw{}, warmup_cosine{.lr = 1e-2, .warmup = 3, .total = 10}, o);
  auto bb = std::make_unique<token_batch<4, S>>();
  auto ws = std::make_unique<D::workspace<4, S>>();
  make_batch(*bb, 0);
  d.train_step(*bb, *ws);
  CHECK_FALSE(same_bits(a->weights(), d.weights()));
}

TEST_CASE("a NaN loss fails with a clear message and leaves the weights alone", "[train]") {
  trainer<M, adamw> t;
  auto b = std::make_unique<token_batch<2, S>>();
  make_batch(*b, 0);
  auto ws = std::make_unique<M::workspace<2, S>>();
  t.weights().wte(3, 2) = std::numeric_limits<float>::quiet_NaN();
  auto before = std::make_unique<M::params>(t.weights());
  CHECK_THROWS_WITH(t.train_step(*b, *ws), Catch::Contains("not finite"));
  CHECK(std::memcmp(&before->h[0].fc.weight(0, 0), &t.weights().h[0].fc.weight(0, 0), sizeof(float) * 16 * 32) == 0);
  CHECK(t.steps_done() == 0);
  // A batch with no target at all is bad input too.
  t.weights().wte(3, 2) = 0.f;
  for (auto& v : b->targets) v = ignore_index;
  CHECK_THROWS_WITH(t.train_step(*b, *ws), Catch::Contains("has no targets"));
}

TEST_CASE("fit evaluates, stops early, keeps the best weights and logs JSON lines", "[train]") {
  const auto log_path = testing::temp_path("fit_log.jsonl").string();
  const auto save_path = testing::temp_path("fit.safetensors").string();
  adamw opt;
  opt.lr = 1e-2;
  trainer<M, adamw> t(opt);
  // Validation follows another rule (+3 instead of +5): its loss turns up as training proceeds.
  function_source<token_batch<4, S>> train(2, [](std::size_t i, token_batch<4, S>& b) { make_batch(b, i * 4); });
  function_source<token_batch<4, S>> val(1, [](std::size_t, token_batch<4, S>& b) { make_batch(b, 40, 3); });
  fit_options o;
  o.max_steps = 400;
  o.eval_every = 10;
  o.patience = 3;
  o.log_path = log_path;
  o.log_every = 5;
  o.save_path = save_path;
  o.progress = progress_bar::style::quiet;
  const auto r = t.fit(train, &val, o);
  REQUIRE(r.val_history.size() >= 4);
  CHECK(r.stopped_early);
  CHECK(r.steps < 400);
  CHECK(r.best_step > 0);
  // The weights are the best ones: evaluating again gives the best validation loss.
  auto ws = std::make_unique<M::workspace<4, S>>();
  auto vb = std::make_unique<token_batch<4, S>>();
  CHECK(t.evaluate(val, *ws, *vb) == Approx(r.best_score).epsilon(1e-6));
  // The log holds step records and evaluation records.
  std::ifstream in(log_path);
  std::string line;
  int steps = 0, evals = 0;
  while (std::getline(in, line)) {
    const auto rec = json::value::parse(line);
    if (rec.find("val_loss")) ++evals;
    if (rec.find("grad_norm")) {
      ++steps;
      CHECK(rec.at("lr").as_number() > 0);
      CHECK(rec.at("tokens_per_s").as_number() > 0);
    }
  }
  CHECK(evals == int(r.val_history.size()));
  CHECK(steps >= int(r.steps / 5));
  CHECK(std::filesystem::exists(save_path));
  std::remove(log_path.c_str());
  std::remove(save_path.c_str());
}

// Issue 16: Ctrl-C stops after the step, writes a checkpoint when there is a folder for them, and
// never writes save_path (a finished, better model may be there); the resumed run appends to the
// log instead of truncating it.
TEST_CASE("Ctrl-C during fit checkpoints, keeps the saved model, and a resume appends to the log", "[train]") {
  const auto dir = testing::temp_path("sigint_run");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto save_path = (dir / "model.safetensors").string();
  const auto log_path = (dir / "log.jsonl").string();
  auto earlier = std::make_unique<M::params>();
  M::init(*earlier, 99);
  save_weights(save_path, *earlier);  // a model saved by an earlier, finished run
  int calls = 0;
  function_source<token_batch<2, S>> train(4, [&](std::size_t i, token_batch<2, S>& b) {
    make_batch(b, i);
    if (++calls == 7) std::raise(SIGINT);  // as if the user pressed Ctrl-C during step 7
  });
  fit_options o;
  o.max_steps = 12;
  o.save_path = save_path;
  o.log_path = log_path;
  o.log_every = 1;
  o.checkpoint_dir = (dir / "ckpt").string();
  o.resume = true;
  o.progress = progress_bar::style::quiet;
  {
    trainer<M, adamw> t;
    const auto r = t.fit(train, static_cast<batch_source<token_batch<2, S>>*>(nullptr), o);
    CHECK(r.interrupted);
    CHECK(r.steps == 7);
    CHECK(std::filesystem::exists(dir / "ckpt" / "step-000000007.safetensors"));
    auto loaded = std::make_unique<M::params>();
    load_weights(save_path, *loaded);
    CHECK(same_bits(*loaded, *earlier));  // not overwritten
  }
  {
    trainer<M, adamw> t;
    const auto r = t.fit(train, static_cast<batch_source<token_batch<2, S>>*>(nullptr), o);
    CHECK(r.resumed);
    CHECK_FALSE(r.interrupted);
    CHECK(r.steps == 12);
    auto loaded = std::make_unique<M::params>();
    load_weights(save_path, *loaded);
    CHECK(same_bits(*loaded, t.weights()));  // a finished run saves
  }
  std::ifstream in(log_path);
  std::string line, steps;
  while (std::getline(in, line)) {
    const auto rec = json::value::parse(line);
    if (rec.find("resumed_at_step")) steps += fmt::format("r{} ", rec.at("resumed_at_step").as_int());
    if (rec.find("grad_norm")) steps += fmt::format("{} ", rec.at("step").as_int());
  }
  CHECK(steps == "1 2 3 4 5 6 7 r7 8 9 10 11 12 ");
  // Without a checkpoint folder, nothing is saved and fit says so.
  calls = 0;
  fit_options q = o;
  q.checkpoint_dir.clear();
  q.resume = false;
  q.log_path.clear();
  auto before = std::make_unique<M::params>();
  load_weights(save_path, *before);
  trainer<M, adamw> t;
  const auto r = t.fit(train, static_cast<batch_source<token_batch<2, S>>*>(nullptr), q);
  CHECK(r.interrupted);
  auto after = std::make_unique<M::params>();
  load_weights(save_path, *after);
  CHECK(same_bits(*after, *before));
  std::filesystem::remove_all(dir);
}

TEST_CASE("training memory is a compile-time figure", "[train]") {
  using tr = trainer<M, adamw, warmup_cosine>;
  STATIC_REQUIRE(tr::bytes_at<4, 8> == M::weight_bytes * 4 + sizeof(M::workspace<4, 8>));
  STATIC_REQUIRE(tr::bytes_at<16, 8> < 64 * 1024 * 1024);
}

// Issue 16: optimizer settings changed after construction take effect (set_optimizer) or are
// refused loudly; fit takes nullptr for "no validation"; the score is logged under its name.
TEST_CASE("set_optimizer: groups and decay set after construction take effect", "[train]") {
  trainer<M, adamw> t;
  auto b = std::make_unique<token_batch<2, S>>();
  auto ws = std::make_unique<M::workspace<2, S>>();
  make_batch(*b, 0);
  t.train_step(*b, *ws);
  const auto wte = t.weights().wte;
  const auto fc = t.weights().h[1].fc.weight;
  adamw o = t.optimizer();
  param_group frozen;
  frozen.prefixes = {"wte."};
  frozen.frozen = true;
  o.groups = {frozen};
  o.lr = 5e-3;
  t.set_optimizer(o);
  CHECK(t.optimizer().lr == 5e-3);
  const long before = t.steps_done();
  t.train_step(*b, *ws);
  CHECK(t.steps_done() == before + 1);  // the moments and step count were kept
  CHECK(std::memcmp(t.weights().wte.data(), wte.data(), wte.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(t.weights().h[1].fc.weight.data(), fc.data(), fc.size() * sizeof(float)) != 0);
  // A change of the state's buffers is refused, and reset_optimizer(o) makes it.
  trainer<M, sgd> s;
  sgd m = s.optimizer();
  m.momentum = 0.9;
  CHECK_THROWS_WITH(s.set_optimizer(m), Catch::Contains("call reset_optimizer()"));
  s.reset_optimizer(m);
  CHECK(s.optimizer().momentum == 0.9);
  s.train_step(*b, *ws);
}

TEST_CASE("fit(train, nullptr, o) trains without validation; a score is logged by its name", "[train]") {
  trainer<M, adamw> t;
  function_source<token_batch<2, S>> train(2, [](std::size_t i, token_batch<2, S>& b) { make_batch(b, i * 2); });
  fit_options o;
  o.max_steps = 3;
  o.progress = progress_bar::style::quiet;
  const auto r = t.fit(train, nullptr, o);
  CHECK(r.steps == 3);
  CHECK(r.val_history.empty());
  // A validation score with stop_mode::max: best_score is the largest, logged as "accuracy".
  const auto log_path = testing::temp_path("score_log.jsonl").string();
  trainer<M, adamw> u;
  double fake = 0;
  fit_options q;
  q.max_steps = 6;
  q.eval_every = 2;
  q.validation_score = [&] { return fake += (fake < 0.5 ? 0.3 : -0.1); };  // 0.3, 0.6, 0.5
  q.score_name = "accuracy";
  q.mode = stop_mode::max;
  q.log_path = log_path;
  q.progress = progress_bar::style::quiet;
  const auto ru = u.fit(train, nullptr, q);
  CHECK(ru.best_score == Approx(0.6));
  CHECK(ru.best_step == 4);
  std::ifstream in(log_path);
  std::string line;
  int scores = 0;
  while (std::getline(in, line)) scores += json::value::parse(line).find("accuracy") != nullptr;
  CHECK(scores == 3);
  std::remove(log_path.c_str());
}
