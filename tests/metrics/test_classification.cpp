// Classification metrics against scikit-learn 1.2 (fixtures from tests/reference/
// metrics_reference.py): accuracy, confusion matrix, precision/recall/F-beta in every averaging,
// ROC and PR curves with ties, AUC, AP, one-vs-rest AUC and top-k; then the edge cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include <ctformer/metrics/classification.hpp>

#include "fixtures.hpp"

namespace m = ctformer::metrics;
using namespace ctformer::testing;

namespace {

m::average parse_average(const std::string& s) {
  if (s == "binary") return m::average::binary;
  if (s == "micro") return m::average::micro;
  if (s == "macro") return m::average::macro;
  return m::average::weighted;
}

}  // namespace

TEST_CASE("accuracy, confusion matrix and precision/recall/F match sklearn", "[metrics][parity]") {
  const auto fx = load_fixture("classification.json");
  std::size_t checked = 0;
  for (const auto& c : fx.at("cases").as_array()) {
    const auto y = ints(c.at("y_true")), yp = ints(c.at("y_pred"));
    const std::size_t num_classes = std::size_t(c.at("num_classes").as_int());
    const auto& e = c.at("expected");
    INFO("kind " << c.at("kind").as_string() << ", y_true " << c.at("y_true").dump() << ", y_pred " << c.at("y_pred").dump());
    const auto cm = m::confusion_matrix::from_labels(y, yp, num_classes);
    CHECK_NEAR(m::accuracy(cm), e.at("accuracy").as_number());
    CHECK_NEAR(m::accuracy_score(y, yp), e.at("accuracy").as_number());
    const auto& rows = e.at("confusion").as_array();
    for (std::size_t t = 0; t < num_classes; ++t)
      for (std::size_t p = 0; p < num_classes; ++p) CHECK(cm.count(t, p) == std::uint64_t(rows[t].at(p).as_int()));
    for (const auto& r : e.at("prf").as_array()) {
      m::prf_options o;
      o.labels = r.at(0).as_string() == "all" ? m::label_set::all : m::label_set::present;
      o.on_zero = r.at(2).as_int() == 1 ? m::zero_division::one : m::zero_division::zero;
      o.beta = r.at(3).as_number();
      INFO("labels " << r.at(0).as_string() << ", average " << r.at(1).as_string() << ", zero_division "
                     << r.at(2).as_int() << ", beta " << o.beta);
      const auto got = m::precision_recall_fscore(cm, parse_average(r.at(1).as_string()), o);
      CHECK_NEAR(got.precision, r.at(4).as_number());
      CHECK_NEAR(got.recall, r.at(5).as_number());
      CHECK_NEAR(got.f_score, r.at(6).as_number());
      ++checked;
    }
    const auto& pc = e.at("per_class");
    const auto got = m::per_class_scores(cm);
    REQUIRE(got.labels.size() == pc.at("labels").size());
    for (std::size_t i = 0; i < got.labels.size(); ++i) {
      CHECK(got.labels[i] == std::size_t(pc.at("labels").at(i).as_int()));
      CHECK_NEAR(got.precision[i], pc.at("p").at(i).as_number());
      CHECK_NEAR(got.recall[i], pc.at("r").at(i).as_number());
      CHECK_NEAR(got.f_score[i], pc.at("f").at(i).as_number());
      CHECK(got.support[i] == std::uint64_t(pc.at("support").at(i).as_int()));
    }
  }
  CHECK(fx.at("cases").size() >= 150);
  CHECK(checked >= 2000);
}

TEST_CASE("ROC curve, ROC AUC, PR curve and average precision match sklearn, ties included", "[metrics][parity]") {
  const auto fx = load_fixture("curves.json");
  for (const auto& c : fx.at("binary").as_array()) {
    const auto y = ints(c.at("y_true"));
    const auto s = doubles(c.at("scores"));
    const auto& e = c.at("expected");
    INFO("style " << c.at("style").as_string() << ", kind " << c.at("kind").as_string() << ", n " << y.size());
    for (bool drop : {true, false}) {
      const auto& r = e.at(drop ? "roc_drop" : "roc_full");
      const auto got = m::roc_curve(y, s, drop);
      INFO("drop_intermediate " << drop);
      CHECK(near_all(got.fpr, doubles(r.at("fpr"))));
      CHECK(near_all(got.tpr, doubles(r.at("tpr"))));
      CHECK(near_all(got.thresholds, doubles(r.at("thresholds"))));
    }
    if (e.at("roc_auc").is_null()) {
      CHECK_THROWS_WITH(m::roc_auc_score(y, s), Catch::Contains("only one class"));
    } else {
      CHECK_NEAR(m::roc_auc_score(y, s), e.at("roc_auc").as_number());
    }
    const auto pr = m::precision_recall_curve(y, s);
    CHECK(near_all(pr.precision, doubles(e.at("pr").at("precision"))));
    CHECK(near_all(pr.recall, doubles(e.at("pr").at("recall"))));
    CHECK(near_all(pr.thresholds, doubles(e.at("pr").at("thresholds"))));
    CHECK_NEAR(m::average_precision_score(y, s), e.at("average_precision").as_number());
  }
  CHECK(fx.at("binary").size() >= 150);
}

TEST_CASE("one-vs-rest multiclass ROC AUC matches sklearn", "[metrics][parity]") {
  const auto fx = load_fixture("curves.json");
  for (const auto& c : fx.at("multiclass_auc").as_array()) {
    const auto y = ints(c.at("y_true"));
    const auto p = doubles(c.at("probs"));
    const std::size_t k = std::size_t(c.at("num_classes").as_int());
    const auto& e = c.at("expected");
    CHECK_NEAR(m::roc_auc_ovr_score(y, p, k, m::multiclass_average::macro), e.at("macro").as_number());
    CHECK_NEAR(m::roc_auc_ovr_score(y, p, k, m::multiclass_average::weighted), e.at("weighted").as_number());
    CHECK_NEAR(m::roc_auc_ovr_score(y, p, k, m::multiclass_average::micro), e.at("micro").as_number());
  }
}

TEST_CASE("top-k accuracy matches sklearn, ties ranking the higher class first", "[metrics][parity]") {
  const auto fx = load_fixture("curves.json");
  for (const auto& c : fx.at("top_k").as_array()) {
    const auto y = ints(c.at("y_true"));
    const auto s = doubles(c.at("scores"));
    INFO("case " << c.dump());
    CHECK_NEAR(m::top_k_accuracy_score(y, s, std::size_t(c.at("num_classes").as_int()), std::size_t(c.at("k").as_int())),
               c.at("expected").as_number());
  }
  // The documented tie rule, by hand: classes 0 and 2 tie; 2 ranks first.
  const std::vector<double> row = {0.5, 0.1, 0.5};
  CHECK(m::in_top_k(row, 2, 1));
  CHECK_FALSE(m::in_top_k(row, 0, 1));
  CHECK(m::in_top_k(row, 0, 2));
}

TEST_CASE("confusion matrix prints as an aligned table with labels", "[metrics]") {
  const std::vector<std::int32_t> y = {0, 0, 1, 1, 1, 2}, p = {0, 1, 1, 1, 2, 2};
  const auto cm = m::confusion_matrix::from_labels(y, p);
  const std::vector<std::string> names = {"neg", "neutral", "positive"};
  CHECK(m::format_confusion_matrix(cm, names) ==
        "true \\ predicted  neg  neutral  positive\n"
        "neg                 1        1         0\n"
        "neutral             0        2         1\n"
        "positive            0        0         1\n");
  CHECK(m::format_confusion_matrix(cm).find("true \\ predicted  0  1  2\n") == 0);
  CHECK_THROWS_WITH(m::format_confusion_matrix(cm, std::vector<std::string>{"a"}), Catch::Contains("1 names for 3 classes"));
}

// ---- edge cases ---------------------------------------------------------------------------

TEST_CASE("edge: empty inputs throw a clear error", "[metrics][edge]") {
  const std::vector<std::int32_t> none;
  const std::vector<double> no_scores;
  CHECK_THROWS_WITH(m::accuracy_score(none, none), Catch::Contains("empty input"));
  CHECK_THROWS_WITH(m::accuracy(m::confusion_matrix(2)), Catch::Contains("empty input"));
  CHECK_THROWS_WITH(m::precision_recall_fscore(m::confusion_matrix(3), m::average::macro), Catch::Contains("empty input"));
  CHECK_THROWS_WITH(m::roc_curve(none, no_scores), Catch::Contains("empty input"));
  CHECK_THROWS_WITH(m::roc_auc_score(none, no_scores), Catch::Contains("empty input"));
  CHECK_THROWS_WITH(m::average_precision_score(none, no_scores), Catch::Contains("empty input"));
  CHECK_THROWS_WITH(m::top_k_accuracy_score(none, no_scores, 3, 1), Catch::Contains("empty input"));
  m::classification_metrics acc(2);
  CHECK_THROWS_WITH(acc.result(), Catch::Contains("empty input"));
  m::score_metrics sc(2);
  CHECK_THROWS_WITH(sc.result(), Catch::Contains("empty input"));
}

TEST_CASE("edge: NaN and infinite scores are rejected, naming the index", "[metrics][edge]") {
  const std::vector<std::int32_t> y = {0, 1, 1};
  const std::vector<double> s = {0.1, std::nan(""), 0.3};
  CHECK_THROWS_WITH(m::roc_auc_score(y, s), Catch::Contains("score at index 1 is NaN"));
  CHECK_THROWS_WITH(m::roc_curve(y, s), Catch::Contains("NaN"));
  CHECK_THROWS_WITH(m::average_precision_score(y, s), Catch::Contains("NaN"));
  const std::vector<double> inf = {0.1, 0.2, INFINITY};
  CHECK_THROWS_WITH(m::precision_recall_curve(y, inf), Catch::Contains("score at index 2 is infinite"));
  const std::vector<float> rows = {0.1f, 0.9f, std::nanf(""), 0.2f};
  const std::vector<std::int32_t> y2 = {1, 0};
  CHECK_THROWS_WITH(m::top_k_accuracy_score(y2, rows, 2, 1), Catch::Contains("NaN"));
  m::classification_metrics acc(2);
  CHECK_THROWS_WITH(acc.update({y2, rows, 2}), Catch::Contains("NaN"));
}

TEST_CASE("edge: a single class follows sklearn", "[metrics][edge]") {
  const std::vector<std::int32_t> ones = {1, 1, 1}, zeros = {0, 0, 0};
  const std::vector<double> s = {0.2, 0.5, 0.9};
  // ROC AUC is undefined: an error, as sklearn's ValueError.
  CHECK_THROWS_WITH(m::roc_auc_score(ones, s), Catch::Contains("only one class (1) present"));
  CHECK_THROWS_WITH(m::roc_auc_score(zeros, s), Catch::Contains("only one class (0) present"));
  // The curve itself has NaN false-positive rates with no negative (sklearn warns, returns NaN).
  const auto roc = m::roc_curve(ones, s);
  CHECK(std::isnan(roc.fpr[1]));
  CHECK(roc.tpr.back() == 1.0);
  // AP: 1 with only positives; 0 with no positive (sklearn sets recall to 1 everywhere).
  CHECK(m::average_precision_score(ones, s) == 1.0);
  CHECK(m::average_precision_score(zeros, s) == 0.0);
  // Precision/recall with one class everywhere: defined, as sklearn.
  const auto cm = m::confusion_matrix::from_labels(ones, ones, 2);
  const auto b = m::precision_recall_fscore(cm, m::average::binary);
  CHECK((b.precision == 1.0 && b.recall == 1.0 && b.f_score == 1.0));
  const auto cm0 = m::confusion_matrix::from_labels(zeros, zeros, 2);
  const auto b0 = m::precision_recall_fscore(cm0, m::average::binary);  // no positive anywhere: 0/0 -> 0
  CHECK((b0.precision == 0.0 && b0.recall == 0.0 && b0.f_score == 0.0));
  m::prf_options one;
  one.on_zero = m::zero_division::one;
  CHECK(m::precision_recall_fscore(cm0, m::average::binary, one).precision == 1.0);
  // Multiclass OvR AUC needs every class in y_true.
  const std::vector<std::int32_t> y3 = {0, 1, 0, 1};
  const std::vector<double> p3 = {0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.6, 0.2, 0.2, 0.1, 0.8, 0.1};
  CHECK_THROWS_WITH(m::roc_auc_ovr_score(y3, p3, 3), Catch::Contains("class 2 never occurs"));
}

TEST_CASE("edge: a class that never occurs", "[metrics][edge]") {
  // Class 2 is predicted once but never true: its recall is 0/0 -> 0 (zero_division), so the
  // macro recall over present labels is (1 + 2/3 + 0) / 3, as sklearn.
  const std::vector<std::int32_t> y = {0, 1, 1, 1}, p = {0, 1, 1, 2};
  const auto cm = m::confusion_matrix::from_labels(y, p);
  const auto r = m::precision_recall_fscore(cm, m::average::macro);
  CHECK(r.recall == Approx((1.0 + 2.0 / 3.0 + 0.0) / 3.0).epsilon(1e-15));
  // Class 3 occurs nowhere: excluded with label_set::present, scored 0 with label_set::all.
  const auto cm4 = m::confusion_matrix::from_labels(y, p, 4);
  m::prf_options all;
  all.labels = m::label_set::all;
  const auto present = m::precision_recall_fscore(cm4, m::average::macro);
  const auto with_all = m::precision_recall_fscore(cm4, m::average::macro, all);
  CHECK(present.recall == Approx(r.recall).epsilon(1e-15));
  CHECK(with_all.recall == Approx(r.recall * 3.0 / 4.0).epsilon(1e-15));
  // Binary averaging refuses a third class, naming it.
  CHECK_THROWS_WITH(m::precision_recall_fscore(cm, m::average::binary), Catch::Contains("class 2 occurs"));
  // Labels outside the matrix are errors, not silent drops.
  m::confusion_matrix small(2);
  CHECK_THROWS_WITH(small.add(0, 5), Catch::Contains("predicted label 5 is outside [0, 2)"));
  const std::vector<std::int32_t> bad = {0, 3};
  const std::vector<double> sc = {0.1, 0.2};
  CHECK_THROWS_WITH(m::roc_curve(bad, sc), Catch::Contains("label 3 at index 1 is not binary"));
}

TEST_CASE("streaming accumulators equal the whole-array metrics for any batching", "[metrics]") {
  const auto fx = load_fixture("curves.json");
  for (const auto& c : fx.at("top_k").as_array()) {
    const auto y = ints(c.at("y_true"));
    const auto s = doubles(c.at("scores"));
    const std::size_t k = std::size_t(c.at("num_classes").as_int());
    m::classification_options o;
    o.top_k = {1, std::size_t(c.at("k").as_int())};
    m::classification_metrics acc(k, o);
    // Feed in uneven batches, with an ignored (padded) row appended to each.
    std::size_t pos = 0, step = 1;
    while (pos < y.size()) {
      const std::size_t n = std::min(step, y.size() - pos);
      std::vector<std::int32_t> labels(y.begin() + long(pos), y.begin() + long(pos + n));
      std::vector<double> scores(s.begin() + long(pos * k), s.begin() + long((pos + n) * k));
      labels.push_back(m::ignore_index);
      scores.insert(scores.end(), k, 0.0);
      acc.update({labels, scores, k});
      pos += n;
      step = step % 4 + 1;
    }
    std::vector<std::int32_t> pred(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) pred[i] = std::int32_t(m::argmax(ctformer::metrics::real_view(s).subview(i * k, k)));
    const auto res = acc.result();
    // Accuracy scores the argmax (first of tied maxima, as np.argmax); top-1 accuracy follows
    // top_k_accuracy_score, where ties favour the higher class: with ties they may differ.
    CHECK(res.at("accuracy") == m::accuracy_score(y, pred));
    CHECK(res.at("top1_accuracy") == m::top_k_accuracy_score(y, s, k, 1));
    CHECK_NEAR(res.at(fmt::format("top{}_accuracy", o.top_k[1])), c.at("expected").as_number());
    const auto cm = m::confusion_matrix::from_labels(y, pred, k);
    // Same formulas, but inlined in two places they may round differently (FMA contraction).
    CHECK_NEAR(res.at("f1_macro"), m::f1_score(cm, m::average::macro));
    CHECK_NEAR(res.at("precision_weighted"), m::precision_score(cm, m::average::weighted));
  }
  // Binary scores: the logit margin keeps the ROC ranking of p(class 1).
  const ctformer::json::value* pick = nullptr;
  for (const auto& c : fx.at("binary").as_array())
    if (!c.at("expected").at("roc_auc").is_null() && c.at("style").as_string() == "continuous") pick = &c;
  REQUIRE(pick);
  const auto& b = *pick;
  const auto y = ints(b.at("y_true"));
  const auto s = doubles(b.at("scores"));
  std::vector<double> two;
  for (double v : s) {
    two.push_back(-v / 2);
    two.push_back(v / 2);
  }
  m::score_metrics sm(2);
  sm.update({y, two, 2});
  CHECK(sm.scores().size() == y.size());  // it keeps every score: ROC and PR need them all
  CHECK(sm.result().at("roc_auc") == Approx(m::roc_auc_score(y, s)).epsilon(1e-15));
  CHECK(sm.result().at("average_precision") == Approx(m::average_precision_score(y, s)).epsilon(1e-15));
}

TEST_CASE("score_metrics turns multiclass logits into probabilities for one-vs-rest AUC", "[metrics]") {
  const auto fx = load_fixture("curves.json");
  for (const auto& c : fx.at("multiclass_auc").as_array()) {
    const auto y = ints(c.at("y_true"));
    const auto p = doubles(c.at("probs"));
    const std::size_t k = std::size_t(c.at("num_classes").as_int());
    std::vector<double> logits(p.size());  // log p: softmax gives p back (up to rounding)
    for (std::size_t i = 0; i < p.size(); ++i) logits[i] = std::log(p[i]) + 3.0;
    m::score_metrics from_logits(k), from_probs(k, m::score_metrics::input::probabilities);
    from_logits.update({y, logits, k});
    from_probs.update({y, p, k});
    CHECK_NEAR(from_probs.result().at("roc_auc_ovr_macro"), c.at("expected").at("macro").as_number());
    CHECK_NEAR(from_probs.result().at("roc_auc_ovr_weighted"), c.at("expected").at("weighted").as_number());
    CHECK(from_logits.scores().size() == y.size() * k);
    double worst = 0;
    for (std::size_t i = 0; i < p.size(); ++i) worst = std::max(worst, std::abs(from_logits.scores()[i] - p[i]));
    CHECK(worst < 1e-6);  // p was rounded to 7 decimals, so softmax(log p) renormalizes slightly
  }
  m::classification_options o;
  o.per_class = true;
  o.class_names = {"a", "b", "c"};
  m::classification_metrics cls(3, o);
  const std::vector<std::int32_t> y = {0, 1, 2, 2};
  const std::vector<double> s = {1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1};
  cls.update({y, s, 3});
  const auto r = cls.result();
  CHECK(r.at("recall/c") == 0.5);
  CHECK(r.at("precision/b") == 0.5);
  CHECK_FALSE(r.contains("f1"));  // binary entries only for two classes
}
