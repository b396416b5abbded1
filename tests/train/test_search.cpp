// Hyperparameter search (train/search.hpp): grids and seeded random draws cover the space as
// specified, successive halving spends the budget it should and keeps the best trials, the
// winner of a synthetic objective is its true optimum, a compile-time list of configs is
// dispatched by index, and a real search over a tiny GPT's learning rate prefers a rate that
// learns.
#include <catch2/catch.hpp>

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/search.hpp>
#include <ctformer/train/trainer.hpp>

#include <cmath>
#include <memory>
#include <set>

using namespace ctformer;
namespace sr = ctformer::search;

TEST_CASE("search grids and random draws", "[train][search]") {
  sr::space sp;
  sp.integer("layers", 1, 2).choice("batch", {8, 16}).log_uniform("lr", 1e-4, 1e-2);
  const auto g = sr::grid(sp, 3);
  REQUIRE(g.size() == 12);
  std::set<double> lrs;
  for (const auto& t : g) lrs.insert(t["lr"]);
  REQUIRE(lrs.size() == 3);
  CHECK(*lrs.begin() == Approx(1e-4));
  CHECK(*std::next(lrs.begin()) == Approx(1e-3));
  CHECK(g[1]["lr"] == Approx(1e-3));  // the last dimension varies fastest
  CHECK(g[11].str() == "layers=2 batch=16 lr=0.01");
  const auto a = sr::random(sp, 200, 5), b = sr::random(sp, 200, 5), c = sr::random(sp, 200, 6);
  CHECK(a[17].values == b[17].values);
  CHECK(a[17].values != c[17].values);
  int low_decade = 0;
  for (const auto& t : a) {
    CHECK((t.index("layers") == 1 || t.index("layers") == 2));
    CHECK((t["batch"] == 8 || t["batch"] == 16));
    CHECK(t["lr"] >= 1e-4);
    CHECK(t["lr"] <= 1e-2);
    low_decade += t["lr"] < 1e-3;
  }
  CHECK(low_decade > 70);  // log-uniform: about half below 1e-3
  CHECK(low_decade < 130);
  CHECK_THROWS_WITH(sp.log_uniform("x", 0, 1), Catch::Contains("needs lo > 0"));
  CHECK_THROWS_WITH(sp.uniform("lr", 0, 1), Catch::Contains("'lr' appears twice"));
  CHECK_THROWS_WITH(a[0]["dropout"], Catch::Contains("no setting 'dropout'"));
}

TEST_CASE("successive halving keeps the best third and finds the optimum", "[train][search]") {
  sr::space sp;
  sp.log_uniform("lr", 1e-5, 1e-1).uniform("wd", 0, 0.2);
  const auto trials = sr::random(sp, 27, 11);
  std::size_t calls = 0;
  const auto objective = [&](const sr::trial& t, long budget) {
    ++calls;
    return -std::pow(std::log10(t["lr"]) + 3, 2) - t["wd"] - 1.0 / double(budget);  // best: lr 1e-3, wd 0
  };
  const auto r = sr::successive_halving(trials, objective, {.min_budget = 1, .max_budget = 9, .eta = 3});
  CHECK(calls == 27 + 9 + 3);
  CHECK(r.budget_spent == 27 * 1 + 9 * 3 + 3 * 9);
  std::size_t best = 0;
  for (std::size_t i = 1; i < trials.size(); ++i)
    if (objective(trials[i], 9) > objective(trials[best], 9)) best = i;
  CHECK(r.winner().settings.id == trials[best].id);
  CHECK(r.winner().scores.size() == 3);
  std::size_t reached_last = 0;
  for (const auto& t : r.trials) reached_last += t.scores.size() == 3;
  CHECK(reached_last == 3);
  // stop_mode::min picks the lowest; the table and JSON say so.
  const auto rmin = sr::successive_halving(trials, objective, {.min_budget = 1, .max_budget = 9, .eta = 3, .mode = stop_mode::min});
  CHECK(rmin.winner().last() < r.winner().last());
  CHECK_THAT(sr::format_table(r), Catch::Contains("best: trial " + std::to_string(trials[best].id)));
  const auto doc = sr::to_json(r);
  CHECK(doc.at("trials").as_array().size() == 27);
  CHECK(long(doc.at("best").as_int()) == long(trials[best].id));
  CHECK_THAT(sr::svg_scores(r, "lr", true), Catch::Contains("<circle"));
}

namespace {
constexpr gpt_config small{.vocab = 16, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};
constexpr gpt_config large{.vocab = 16, .context = 8, .d_model = 32, .heads = 4, .d_ff = 64, .layers = 2};

template <gpt_config Cfg>
double train_loss(double lr, long steps) {
  using M = decoder_lm<Cfg>;
  adamw opt;
  opt.lr = lr;
  trainer<M, adamw> t(opt);
  auto b = std::make_unique<token_batch<4, 8>>();
  auto ws = std::make_unique<typename M::template workspace<4, 8>>();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t s = 0; s < 8; ++s) {
      b->ids(i, s) = std::int32_t((i + s) % 16);
      b->targets(i, s) = std::int32_t((i + s + 1) % 16);
      b->attention_mask(i, s) = 1;
      b->token_type(i, s) = 0;
    }
  double loss = 0;
  for (long k = 0; k < steps; ++k) loss = t.train_step(*b, *ws).loss;
  return loss;
}
}  // namespace

TEST_CASE("a search over architectures and learning rates prefers settings that learn", "[train][search]") {
  CHECK(sr::with_config<small, large>(1, []<gpt_config C>() { return decoder_lm<C>::param_count; }) ==
        decoder_lm<large>::param_count);
  const auto bad_index = [] { return sr::with_config<small, large>(2, []<gpt_config C>() { return 0; }); };
  CHECK_THROWS_WITH(bad_index(), Catch::Contains("index 2"));
  sr::space sp;
  sp.choice("arch", {0, 1}).choice("lr", {1e-5, 3e-3, 1e-2});
  const auto r = sr::successive_halving(
      sr::grid(sp),
      [](const sr::trial& t, long steps) {
        return sr::with_config<small, large>(t.index("arch"), [&]<gpt_config C>() { return train_loss<C>(t["lr"], steps); });
      },
      {.min_budget = 5, .max_budget = 45, .eta = 3, .mode = stop_mode::min});
  CHECK(r.winner().settings["lr"] > 1e-5);  // a rate that learns
  CHECK(r.winner().last() < 1.0);           // the cyclic sequence is learnt
}
