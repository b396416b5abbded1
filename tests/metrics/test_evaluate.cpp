// The evaluation loop: eval mode for the duration (restored after, also on an exception),
// several accumulators fed from one predict call (directly or through project), results merged.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include <ctformer/metrics/classification.hpp>
#include <ctformer/metrics/evaluate.hpp>
#include <ctformer/metrics/language.hpp>
#include <ctformer/metrics/regression.hpp>

namespace m = ctformer::metrics;

namespace {

// A stand-in for a model with dropout: it records the mode it was called in.
struct fake_model {
  bool train_mode = true;
  int calls_in_train_mode = 0;
  void set_training(bool t) { train_mode = t; }
  bool training() const { return train_mode; }
};
static_assert(m::has_training_mode<fake_model>);
static_assert(!m::has_training_mode<int>);

struct batch {
  std::vector<std::int32_t> labels;
  std::vector<float> logits;  // (rows, 3)
};

struct outputs {  // what a predict callable may return: several views at once
  m::class_output classes;
  m::sum_count loss;
};

}  // namespace

TEST_CASE("evaluate_model runs predict in eval mode and restores the mode", "[metrics]") {
  std::vector<batch> batches = {{{0, 1, 2}, {3, 1, 0, 0, 2, 1, 0, 0, 1}},
                                {{2, m::ignore_index}, {0, 1, 5, 9, 9, 9}}};
  fake_model model;
  m::classification_options co;
  co.top_k = {2};
  m::classification_metrics cls(3, co);
  m::running_mean loss("loss");
  const auto res = m::evaluate_model(
      model, batches,
      [](fake_model& mdl, const batch& b) {
        if (mdl.training()) ++mdl.calls_in_train_mode;
        return outputs{{b.labels, b.logits, 3}, {0.5 * double(b.labels.size()), b.labels.size()}};
      },
      m::project(cls, [](const outputs& o) { return o.classes; }),
      m::project(loss, [](const outputs& o) { return o.loss; }));
  CHECK(model.calls_in_train_mode == 0);
  CHECK(model.training());  // restored
  // Rows: argmax 0 (label 0), argmax 1 (label 1), argmax 2 (label 2), argmax 2 (label 2);
  // the ignored row is skipped.
  CHECK(res.at("accuracy") == 1.0);
  CHECK(res.at("top2_accuracy") == 1.0);
  CHECK(res.at("loss") == 0.5);
  CHECK(cls.confusion().total() == 4);
  // A second run starts from a reset state.
  const auto again = m::evaluate(batches, [](const batch& b) { return m::class_output{b.labels, b.logits, 3}; }, cls);
  CHECK(cls.confusion().total() == 4);
  CHECK(again.at("accuracy") == 1.0);

  model.set_training(true);
  CHECK_THROWS_AS(m::evaluate_model(
                      model, batches, [](fake_model&, const batch&) -> m::class_output { throw std::runtime_error("boom"); },
                      cls),
                  std::runtime_error);
  CHECK(model.training());  // restored on the exception too
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
