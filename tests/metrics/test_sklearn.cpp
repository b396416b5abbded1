// scikit-learn's signatures (metrics/sklearn.hpp) against sklearn 1.2.1 itself: fixtures of
// tests/reference/metrics_reference.py (sklearn_options.json) with arbitrary integer labels,
// labels lists, sample weights, normalize, every average and zero_division; top-k on 1-D binary
// scores and with ties; LRAP; weighted regression; perplexity with a mask. Where sklearn raises,
// the C++ function must throw ctformer::error.
#include <catch2/catch.hpp>

#include <ctformer/metrics/sklearn.hpp>

#include <optional>
#include <vector>

#include "fixtures.hpp"

using namespace ctformer;
using namespace ctformer::testing;
namespace sk = ctformer::metrics::sklearn;

namespace {
std::vector<double> weights_of(const json::value& c) {
  return c.at("weights").is_null() ? std::vector<double>{} : doubles(c.at("weights"));
}
std::optional<std::vector<std::int32_t>> labels_of(const json::value& v) {
  if (v.is_null()) return std::nullopt;
  return ints(v);
}
void check_all(const std::vector<double>& got, const json::value& want) {
  const auto w = doubles(want);
  REQUIRE(got.size() == w.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(near(got[i], w[i]));
}
}  // namespace

TEST_CASE("sklearn::confusion_matrix: labels lists, weights, normalize", "[metrics][sklearn]") {
  const auto fx = load_fixture("sklearn_options.json");
  std::size_t n = 0;
  for (const auto& c : fx.at("confusion").as_array()) {
    INFO("confusion case " << n++);
    const auto yt = ints(c.at("y_true")), yp = ints(c.at("y_pred"));
    const auto w = weights_of(c);
    const std::string norm = c.at("normalize").is_null() ? "" : c.at("normalize").as_string();
    const auto mode = norm == "true"   ? sk::normalize::true_labels
                      : norm == "pred" ? sk::normalize::predicted
                      : norm == "all"  ? sk::normalize::all
                                       : sk::normalize::none;
    if (c.at("expected").is_string()) {
      CHECK_THROWS_AS(sk::confusion_matrix(yt, yp, labels_of(c.at("labels")), w, mode), error);
      continue;
    }
    const auto r = sk::confusion_matrix(yt, yp, labels_of(c.at("labels")), w, mode);
    CHECK(r.labels == ints(c.at("expected_labels")));
    check_all(r.values, c.at("expected"));
  }
  // Labels 10/20/30 make a 3 x 3 matrix, not 31 x 31.
  const std::vector<std::int32_t> t{10, 20, 30, 30}, p{10, 30, 30, 20};
  CHECK(sk::confusion_matrix(t, p).values.size() == 9);
}

TEST_CASE("sklearn::accuracy_score and precision_recall_fscore_support", "[metrics][sklearn]") {
  const auto fx = load_fixture("sklearn_options.json");
  for (const auto& c : fx.at("accuracy").as_array()) {
    const auto yt = ints(c.at("y_true")), yp = ints(c.at("y_pred"));
    CHECK(near(sk::accuracy_score(yt, yp, c.at("normalize").as_bool(), weights_of(c)), c.at("expected").as_number()));
  }
  std::size_t n = 0, errors = 0;
  for (const auto& c : fx.at("prf").as_array()) {
    INFO("prf case " << n++);
    const auto yt = ints(c.at("y_true")), yp = ints(c.at("y_pred"));
    sk::prf_args a;
    a.beta = c.at("beta").as_number();
    a.labels = labels_of(c.at("labels"));
    a.pos_label = std::int32_t(c.at("pos_label").as_int());
    a.sample_weight = weights_of(c);
    a.zero_division = c.at("zero_division").as_number();
    const std::string avg = c.at("average").is_null() ? "" : c.at("average").as_string();
    a.average = avg == "binary"   ? sk::average::binary
                : avg == "micro"  ? sk::average::micro
                : avg == "macro"  ? sk::average::macro
                : avg == "weighted" ? sk::average::weighted
                                  : sk::average::none;
    INFO("average '" << avg << "'");
    if (c.at("expected").is_string()) {
      CHECK_THROWS_AS(sk::precision_recall_fscore_support(yt, yp, a), error);
      ++errors;
      continue;
    }
    const auto r = sk::precision_recall_fscore_support(yt, yp, a);
    const auto& e = c.at("expected");
    check_all(r.precision, e.at("precision"));
    check_all(r.recall, e.at("recall"));
    check_all(r.fbeta, e.at("fbeta"));
    if (!e.at("support").is_null()) check_all(r.support, e.at("support"));
    if (a.average != sk::average::none) {
      CHECK(near(sk::precision_score(yt, yp, a), r.precision[0]));
      CHECK(near(sk::recall_score(yt, yp, a), r.recall[0]));
      CHECK(near(sk::fbeta_score(yt, yp, a), r.fbeta[0]));
    }
  }
  CHECK(errors > 0);  // binary averaging of multiclass targets, as sklearn refuses
}

TEST_CASE("sklearn::top_k_accuracy_score, LRAP, regression, perplexity", "[metrics][sklearn]") {
  const auto fx = load_fixture("sklearn_options.json");
  std::size_t n = 0;
  for (const auto& c : fx.at("top_k").as_array()) {
    INFO("top_k case " << n++);
    CHECK(near(sk::top_k_accuracy_score(ints(c.at("y_true")), doubles(c.at("scores")), std::size_t(c.at("classes").as_int()),
                                         std::size_t(c.at("k").as_int()), c.at("normalize").as_bool(), weights_of(c)),
                c.at("expected").as_number()));
  }
  for (const auto& c : fx.at("lrap").as_array())
    CHECK(near(sk::label_ranking_average_precision_score(ints(c.at("y_true")), doubles(c.at("scores")),
                                                          std::size_t(c.at("labels").as_int()), weights_of(c)),
                c.at("expected").as_number()));
  for (const auto& c : fx.at("regression").as_array()) {
    const auto yt = doubles(c.at("y_true")), yp = doubles(c.at("y_pred"));
    const auto w = weights_of(c);
    CHECK(near(sk::mean_squared_error(yt, yp, w), c.at("mse").as_number()));
    CHECK(near(sk::mean_squared_error(yt, yp, w, false), c.at("rmse").as_number()));
    CHECK(near(sk::mean_absolute_error(yt, yp, w), c.at("mae").as_number()));
    CHECK(near(sk::r2_score(yt, yp, w), c.at("r2").as_number()));
  }
  for (const auto& c : fx.at("perplexity").as_array())
    CHECK(near(sk::perplexity(doubles(c.at("log_probs")), ints(c.at("mask"))), c.at("expected").as_number()));
  const std::vector<double> lp{-1.0, -2.0};
  const std::vector<std::int32_t> none{0, 0};
  CHECK_THROWS_WITH(sk::perplexity(lp, none), Catch::Contains("the mask is all zero"));
}
