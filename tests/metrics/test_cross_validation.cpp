// Cross-validation: unshuffled fold indices equal scikit-learn's KFold / StratifiedKFold, shuffled
// folds are reproducible partitions that keep class proportions, the driver reports mean and
// population std, and a full run on the shared sentiment data with a bag-of-words classifier.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include <ctformer/metrics/classification.hpp>
#include <ctformer/metrics/cross_validation.hpp>
#include <ctformer/metrics/evaluate.hpp>
#include <ctformer/metrics/report.hpp>

#include "../../examples/sentiment_cv/bow_logistic.hpp"
#include "support/test_support.hpp"
#include "fixtures.hpp"

namespace m = ctformer::metrics;
using namespace ctformer::testing;

namespace {

std::vector<std::size_t> sizes(const ctformer::json::value& a) {
  std::vector<std::size_t> out;
  for (const auto& v : a.as_array()) out.push_back(std::size_t(v.as_int()));
  return out;
}

// Every index in exactly one test fold, and train = the complement, both ascending.
void check_partition(const std::vector<m::fold>& folds, std::size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& f : folds) {
    CHECK(std::is_sorted(f.test.begin(), f.test.end()));
    CHECK(std::is_sorted(f.train.begin(), f.train.end()));
    CHECK(f.train.size() + f.test.size() == n);
    for (auto i : f.test) ++seen[i];
    std::vector<std::size_t> all;
    std::merge(f.train.begin(), f.train.end(), f.test.begin(), f.test.end(), std::back_inserter(all));
    std::vector<std::size_t> iota(n);
    std::iota(iota.begin(), iota.end(), std::size_t(0));
    CHECK(all == iota);
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
}

}  // namespace

TEST_CASE("unshuffled k-fold and stratified k-fold equal sklearn's folds", "[metrics][parity]") {
  const auto fx = load_fixture("folds.json");
  std::size_t strat = 0;
  for (const auto& c : fx.at("cases").as_array()) {
    const std::size_t k = std::size_t(c.at("k").as_int());
    std::vector<m::fold> folds;
    std::size_t n;
    if (c.at("type").as_string() == "kfold") {
      n = std::size_t(c.at("n").as_int());
      folds = m::k_fold(n, k);
    } else {
      const auto labels = ints(c.at("labels"));
      n = labels.size();
      folds = m::stratified_k_fold(labels, k);
      ++strat;
    }
    INFO("case " << c.dump());
    REQUIRE(folds.size() == k);
    for (std::size_t f = 0; f < k; ++f) CHECK(folds[f].test == sizes(c.at("test").at(f)));
    check_partition(folds, n);
  }
  CHECK(strat >= 30);
}

TEST_CASE("shuffled folds are seeded partitions that keep class proportions", "[metrics]") {
  std::vector<std::int32_t> y;
  for (int i = 0; i < 300; ++i) y.push_back(i % 10 == 0 ? 7 : (i % 3 == 0 ? 1 : 0));  // imbalanced, 3 classes
  const m::split_options o{.shuffle = true, .seed = 42};
  const auto a = m::stratified_k_fold(y, 5, o), b = m::stratified_k_fold(y, 5, o);
  const auto c = m::stratified_k_fold(y, 5, {.shuffle = true, .seed = 43});
  check_partition(a, y.size());
  for (std::size_t f = 0; f < 5; ++f) CHECK(a[f].test == b[f].test);
  bool differs = false;
  for (std::size_t f = 0; f < 5; ++f) differs |= a[f].test != c[f].test;
  CHECK(differs);
  std::map<std::int32_t, std::size_t> total;
  for (auto v : y) ++total[v];
  for (const auto& f : a) {
    std::map<std::int32_t, std::size_t> count;
    for (auto i : f.test) ++count[y[i]];
    for (const auto& [cls, t] : total) {  // each fold holds floor or ceil of 1/5 of each class
      CHECK(count[cls] >= t / 5);
      CHECK(count[cls] <= (t + 4) / 5);
    }
  }
  const auto kf = m::k_fold(103, 4, o);
  check_partition(kf, 103);
  CHECK(kf[0].test.size() == 26);
  CHECK(kf[3].test.size() == 25);
  CHECK(kf[0].test != m::k_fold(103, 4)[0].test);  // shuffled, unlike the contiguous 0..25
}

TEST_CASE("fold errors are clear", "[metrics][edge]") {
  CHECK_THROWS_WITH(m::k_fold(10, 1), Catch::Contains("k must be at least 2"));
  CHECK_THROWS_WITH(m::k_fold(3, 4), Catch::Contains("greater than the number of samples (3)"));
  const std::vector<std::int32_t> y = {0, 0, 1, 1, 2};
  CHECK_THROWS_WITH(m::stratified_k_fold(y, 3), Catch::Contains("greater than the number of members in each class"));
  const std::vector<std::int32_t> none;
  CHECK_THROWS_WITH(m::stratified_k_fold(none, 2), Catch::Contains("greater than the number of samples (0)"));
}

TEST_CASE("cross_validate reports mean and population std, and rejects uneven folds", "[metrics]") {
  const auto folds = m::k_fold(12, 3);
  const auto r = m::cross_validate(folds, [](const m::fold& f, std::size_t i) {
    m::metric_set s;
    s.set("a", double(i + 1));            // 1, 2, 3
    s.set("test_size", double(f.test.size()));
    return s;
  });
  REQUIRE(r.folds.size() == 3);
  CHECK(r.at("a").mean == 2.0);
  CHECK(r.at("a").std == Approx(std::sqrt(2.0 / 3.0)).epsilon(1e-15));  // ddof = 0
  CHECK(r.at("a").min == 1.0);
  CHECK(r.at("a").max == 3.0);
  CHECK(r.at("test_size").std == 0.0);
  CHECK_THROWS_WITH(m::cross_validate(folds, [](const m::fold&, std::size_t i) {
                      m::metric_set s;
                      if (i != 1) s.set("a", 1.0);
                      s.set("b", 2.0);
                      return s;
                    }),
                    Catch::Contains("fold 1 does not report \"a\""));
  // The factory form builds a model per fold: a counter shows three fresh models.
  int made = 0;
  struct model {
    int trained = 0;
  };
  const auto r2 = m::cross_validate(
      folds, [&] { ++made; return model{}; },
      [](model& mdl, const m::fold&, std::size_t) {
        ++mdl.trained;
        m::metric_set s;
        s.set("times_trained", double(mdl.trained));
        return s;
      });
  CHECK(made == 3);
  CHECK(r2.at("times_trained").max == 1.0);
}

TEST_CASE("cross-validation on the sentiment data with a bag-of-words classifier", "[metrics][data]") {
  CTFORMER_REQUIRE_DATA(dir_file, "sentiment/yelp_labelled.txt");
  const auto data = sentiment::read_all(dir_file.parent_path());
  REQUIRE(data.size() == 3000);
  std::vector<std::int32_t> labels;
  for (const auto& e : data) labels.push_back(e.label);
  const auto folds = m::stratified_k_fold(labels, 5, {.shuffle = true, .seed = 2024});

  const auto result = m::cross_validate(folds, [&](const m::fold& f, std::size_t) {
    sentiment::bow_logistic model;  // fresh per fold; its vocabulary comes from f.train only
    model.fit(data, f.train, {}, [](std::size_t, double) { return true; });
    // Score the test fold through the evaluation loop, in batches of 64 rows.
    std::vector<std::vector<std::size_t>> batches;
    for (std::size_t i = 0; i < f.test.size(); i += 64)
      batches.emplace_back(f.test.begin() + long(i), f.test.begin() + long(std::min(f.test.size(), i + 64)));
    std::vector<std::int32_t> y;
    std::vector<double> scores;  // (rows, 2): logits (0, z) so that softmax gives sigmoid(z)
    m::classification_metrics cls(2);
    m::score_metrics roc(2);
    return m::evaluate(
        batches,
        [&](const std::vector<std::size_t>& rows) {
          y.clear();
          scores.clear();
          for (std::size_t r : rows) {
            y.push_back(data[r].label);
            scores.push_back(0.0);
            scores.push_back(model.logit(data[r].text));
          }
          return m::class_output{y, scores, 2};
        },
        cls, roc);
  });
  m::report_options ro;
  ro.title = "5-fold stratified CV, bag-of-words logistic regression (sentiment, 3000 sentences)";
  m::report(result, ro);
  REQUIRE(result.folds.size() == 5);
  // A linear bag-of-words model reaches about 0.83 accuracy and 0.90 ROC AUC on this data.
  for (const auto& [name, floor] : {std::pair{"accuracy", 0.8}, std::pair{"f1", 0.8}, std::pair{"f1_macro", 0.8},
                                    std::pair{"roc_auc", 0.87}, std::pair{"average_precision", 0.87}}) {
    const auto& s = result.at(name);
    INFO(name << ": " << s.mean << " +- " << s.std);
    CHECK(s.mean > floor);
    CHECK(s.std > 0.0);
    CHECK(s.std < 0.05);
  }
  CHECK(result.at("roc_auc").mean > result.at("accuracy").mean);
}
