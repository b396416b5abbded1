// The evaluation loop: predict gets run_mode::eval(), several accumulators are fed from one
// predict call (directly or through project), results merge; and the loop around a real encoder.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include <ctformer/metrics/classification.hpp>
#include <ctformer/metrics/evaluate.hpp>
#include <ctformer/metrics/language.hpp>
#include <ctformer/metrics/regression.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/models/init.hpp>

namespace m = ctformer::metrics;

namespace {

struct batch {
  std::vector<std::int32_t> labels;
  std::vector<float> logits;  // (rows, 3)
};

struct outputs {  // what a predict callable may return: several views at once
  m::class_output classes;
  m::sum_count loss;
};

}  // namespace

TEST_CASE("evaluate passes run_mode::eval() and feeds every accumulator", "[metrics]") {
  std::vector<batch> batches = {{{0, 1, 2}, {3, 1, 0, 0, 2, 1, 0, 0, 1}},
                                {{2, m::ignore_index}, {0, 1, 5, 9, 9, 9}}};
  m::classification_options co;
  co.top_k = {2};
  m::classification_metrics cls(3, co);
  m::running_mean loss("loss");
  int calls = 0, calls_in_training = 0;
  const auto res = m::evaluate(
      batches,
      [&](const batch& b, const ctformer::run_mode& mode) {
        ++calls;
        calls_in_training += mode.train;
        return outputs{{b.labels, b.logits, 3}, {0.5 * double(b.labels.size()), b.labels.size()}};
      },
      m::project(cls, [](const outputs& o) { return o.classes; }),
      m::project(loss, [](const outputs& o) { return o.loss; }));
  CHECK(calls == 2);
  CHECK(calls_in_training == 0);
  // Rows: argmax 0 (label 0), 1 (label 1), 2 (label 2), 2 (label 2); the ignored row is skipped.
  CHECK(res.at("accuracy") == 1.0);
  CHECK(res.at("top2_accuracy") == 1.0);
  CHECK(res.at("loss") == 0.5);
  CHECK(cls.confusion().total() == 4);
  // A predict without a run_mode parameter works too, and a second run starts from a reset state.
  const auto again = m::evaluate(batches, [](const batch& b) { return m::class_output{b.labels, b.logits, 3}; }, cls);
  CHECK(cls.confusion().total() == 4);
  CHECK(again.at("accuracy") == 1.0);
}

// The evaluation loop around a real model: a small BERT-like classifier with dropout. Eval mode
// makes two evaluations identical and equal to a forward pass without dropout.
TEST_CASE("evaluate runs an encoder classifier in eval mode", "[metrics]") {
  constexpr ctformer::bert_config cfg{.vocab = 16, .context = 8, .d_model = 8, .heads = 2, .d_ff = 16, .layers = 1,
                                      .dropout = 0.3f};
  using E = ctformer::encoder<cfg, ctformer::classify<3>>;
  constexpr std::size_t B = 4, S = 8;
  auto p = std::make_unique<E::params>();
  ctformer::initialize(*p, ctformer::init_scheme::normal, 0.5, E::L, 11);
  auto ws = std::make_unique<E::workspace<B, S>>();
  std::vector<ctformer::classification_batch<B, S>> batches(3);
  std::uint32_t x = 5;
  for (auto& b : batches)
    for (std::size_t i = 0; i < B; ++i) {
      for (std::size_t s = 0; s < S; ++s) {
        x = x * 1103515245u + 12345u;
        b.ids(i, s) = std::int32_t((x >> 16) % 16);
        b.attention_mask(i, s) = s < 3 + i ? 1 : 0;
        b.token_type(i, s) = 0;
      }
      b.labels(i) = std::int32_t(i % 3);
    }
  batches[2].labels(3) = ctformer::ignore_index;  // a padded row
  auto predict = [&](const ctformer::classification_batch<B, S>& b, const ctformer::run_mode& mode) {
    E::forward<B, S>(*p, *ws, b, mode);
    return m::class_output{std::span<const std::int32_t>(b.labels.data(), B),
                           m::real_view(ws->head_ws.logits.data(), B * 3), 3};
  };
  m::classification_metrics cls(3);
  m::score_metrics sc(3);
  m::language_metrics nll;  // the mean cross-entropy of the class logits
  auto as_tokens = [](const m::class_output& o) { return m::token_output{o.labels, o.scores, o.num_classes}; };
  const auto r1 = m::evaluate(batches, predict, cls, sc, m::project(nll, as_tokens));
  const auto r2 = m::evaluate(batches, predict, cls, sc, m::project(nll, as_tokens));
  REQUIRE(r1.size() == r2.size());
  for (const auto& e : r1) CHECK(r2.at(e.name) == e.value);
  CHECK(cls.confusion().total() == 11);
  // The loss from the model's own cross-entropy (eval mode, default run_mode) equals "loss".
  double sum = 0;
  std::size_t count = 0;
  for (const auto& b : batches) {
    const auto lv = E::forward_loss<B, S>(*p, *ws, b);
    sum += double(lv.loss) * double(lv.count);
    count += lv.count;
  }
  CHECK(r1.at("loss") == Approx(sum / double(count)).epsilon(1e-6));
  // In training mode dropout changes the logits: eval mode is what made the runs identical.
  E::forward<B, S>(*p, *ws, batches[0], ctformer::run_mode::training(1, 1));
  const std::vector<float> train_logits(ws->head_ws.logits.begin(), ws->head_ws.logits.end());
  E::forward<B, S>(*p, *ws, batches[0], ctformer::run_mode::eval());
  const std::vector<float> eval_logits(ws->head_ws.logits.begin(), ws->head_ws.logits.end());
  CHECK(train_logits != eval_logits);
}

TEST_CASE("evaluate merges results from regression and language accumulators", "[metrics]") {
  struct reg_batch {
    std::vector<double> y, p;
  };
  std::vector<reg_batch> rb = {{{1, 2}, {1, 3}}, {{3}, {5}}};
  m::regression_metrics reg;
  const auto r = m::evaluate(rb, [](const reg_batch& b) { return m::regression_output{b.y, b.p, {}}; }, reg);
  CHECK(r.at("mse") == Approx(5.0 / 3.0));
  CHECK(r.at("mae") == Approx(1.0));
  const auto prefixed = m::with_prefix(r, "val/");
  CHECK(prefixed.at("val/mse") == r.at("mse"));

  struct tok_batch {
    std::vector<std::int32_t> t;
    std::vector<double> z;
  };
  std::vector<tok_batch> tb = {{{0, m::ignore_index}, {0, 0, 7, 7}}};
  m::language_metrics lm;
  const auto l = m::evaluate(tb, [](const tok_batch& b) { return m::token_output{b.t, b.z, 2}; }, lm);
  CHECK(l.at("perplexity") == Approx(2.0));  // uniform over 2 words
  CHECK(l.at("token_accuracy") == 1.0);      // argmax of a tie is the first index, 0
}
