// Evaluation end to end on the shared sentiment data (3,000 labelled sentences): 5-fold stratified
// cross-validation of a bag-of-words logistic regression, with early stopping on a validation
// split inside each training fold, then a report (table + JSON) and three SVG plots: the ROC
// curve of the out-of-fold scores, fold 1's loss curves and its validation metrics over training.
// Usage: sentiment_cv [data_dir] [out_dir]   (defaults: the configured shared data, ".")
#include <ctformer/metrics/classification.hpp>
#include <ctformer/metrics/cross_validation.hpp>
#include <ctformer/metrics/evaluate.hpp>
#include <ctformer/metrics/report.hpp>
#include <ctformer/metrics/svg.hpp>
#include <ctformer/train/early_stopping.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bow_logistic.hpp"

namespace m = ctformer::metrics;
namespace fs = std::filesystem;

namespace {

struct scored_rows {  // what predict returns: class scores and the summed log-loss of a batch
  m::class_output classes;
  m::sum_count loss;
};

// Runs a trained model over `rows` in batches of 64 through the evaluation loop.
m::metric_set score(const sentiment::bow_logistic& model, const std::vector<sentiment::example>& data,
                    const std::vector<std::size_t>& rows, m::score_metrics* keep_scores = nullptr,
                    m::confusion_matrix* pooled = nullptr) {
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t i = 0; i < rows.size(); i += 64)
    batches.emplace_back(rows.begin() + long(i), rows.begin() + long(std::min(rows.size(), i + 64)));
  std::vector<std::int32_t> y;
  std::vector<double> logits;  // (rows, 2) = (0, z): softmax gives p(positive) = sigmoid(z)
  m::classification_metrics cls(2);
  m::score_metrics roc(2);
  m::running_mean loss("loss");
  auto res = m::evaluate(
      batches,
      [&](const std::vector<std::size_t>& batch) {
        y.clear();
        logits.clear();
        double nll = 0;
        for (std::size_t r : batch) {
          const double z = model.logit(data[r].text);
          y.push_back(data[r].label);
          logits.push_back(0.0);
          logits.push_back(z);
          nll += std::log1p(std::exp(-std::abs(z))) + std::max(z, 0.0) - data[r].label * z;
        }
        return scored_rows{{y, logits, 2}, {nll, batch.size()}};
      },
      m::project(cls, [](const scored_rows& s) { return s.classes; }),
      m::project(roc, [](const scored_rows& s) { return s.classes; }),
      m::project(loss, [](const scored_rows& s) { return s.loss; }));
  if (keep_scores)
    for (std::size_t i = 0; i < roc.labels().size(); ++i) keep_scores->add(roc.labels()[i], roc.scores()[i]);
  if (pooled) pooled->merge(cls.confusion());
  return res;
}

}  // namespace

int main(int argc, char** argv) try {
  const fs::path data_dir = argc > 1 ? fs::path(argv[1]) : fs::path("../shared/data/sentiment");
  const fs::path out_dir = argc > 2 ? fs::path(argv[2]) : fs::path(".");
  fs::create_directories(out_dir);
  const auto data = sentiment::read_all(data_dir);
  std::vector<std::int32_t> labels;
  for (const auto& e : data) labels.push_back(e.label);
  std::printf("%zu sentences from %s\n", data.size(), data_dir.string().c_str());

  const auto folds = m::stratified_k_fold(labels, 5, {.shuffle = true, .seed = 2024});
  m::score_metrics out_of_fold(2);  // every test score, for one pooled ROC curve
  m::confusion_matrix pooled(2);
  m::svg::series train_loss{"train", {}, {}}, val_loss{"validation", {}, {}};
  m::metric_history history;

  const auto cv = m::cross_validate(folds, [&](const m::fold& f, std::size_t fold_index) {
    // Hold out a stratified tenth of the training fold for early stopping; the test fold is
    // only scored once, at the end.
    std::vector<std::int32_t> train_labels;
    for (std::size_t r : f.train) train_labels.push_back(labels[r]);
    const auto inner = m::stratified_k_fold(train_labels, 10, {.shuffle = true, .seed = 7})[0];
    std::vector<std::size_t> fit_rows, val_rows;
    for (std::size_t i : inner.train) fit_rows.push_back(f.train[i]);
    for (std::size_t i : inner.test) val_rows.push_back(f.train[i]);

    sentiment::bow_logistic model, best;  // a fresh model per fold
    ctformer::early_stopping stop(ctformer::stop_mode::min, 4, 1e-4);
    model.fit(data, fit_rows, {}, [&](std::size_t epoch, double loss) {
      if (fold_index == 0) {
        train_loss.x.push_back(double(epoch));
        train_loss.y.push_back(loss);
      }
      if (epoch % 25 != 0) return true;
      const auto val = score(model, data, val_rows);
      if (fold_index == 0) {
        val_loss.x.push_back(double(epoch));
        val_loss.y.push_back(val.at("loss"));
        m::metric_set shown;
        for (const char* k : {"accuracy", "f1", "roc_auc"}) shown.set(std::string("val/") + k, val.at(k));
        history.add(epoch, shown);
      }
      const bool halt = stop.should_stop(val.at("loss"), epoch);
      if (stop.improved()) best = model;  // keep the best weights
      return !halt;
    });
    std::printf("fold %zu: best validation loss %.4f at epoch %zu\n", fold_index + 1, stop.best(), stop.best_step());
    return score(best, data, f.test, &out_of_fold, &pooled);
  });

  m::report_options ro;
  ro.title = "5-fold stratified cross-validation: bag-of-words logistic regression on sentiment";
  ro.json_path = (out_dir / "sentiment_cv.json").string();
  ro.confusion = &pooled;
  ro.class_names = {"negative", "positive"};
  m::report(cv, ro);

  const auto roc = out_of_fold.roc();
  m::svg::write_roc((out_dir / "roc.svg").string(), roc, m::roc_auc_score(out_of_fold.labels(), out_of_fold.scores()),
                    "ROC of the out-of-fold scores (3,000 sentences)");
  m::svg::write_loss((out_dir / "loss.svg").string(), {train_loss, val_loss}, "Fold 1: mean log-loss");
  m::svg::write_history((out_dir / "val_metrics.svg").string(), history, {}, "Fold 1: validation metrics");
  std::printf("wrote %s/{sentiment_cv.json, roc.svg, loss.svg, val_metrics.svg}\n", out_dir.string().c_str());
} catch (const std::exception& e) {
  std::fprintf(stderr, "sentiment_cv: %s\n", e.what());
  return 1;
}
