// Ensembles of classifiers: the members may be of different static types (any object with
// predict(std::span<const std::string>) -> std::vector<class_prediction>, e.g. text_classifier
// over different encoder configs), or the k fold models of a cross-validation. Three ways to
// combine them, each with member weights:
//   average_probabilities  p = sum_m w_m p_m / sum_m w_m (scikit-learn's soft voting)
//   average_logits         z = sum_m w_m z_m / sum_m w_m, then softmax
//   majority_vote          the label with the largest weight of votes, the lowest on a tie
//                          (scikit-learn's hard voting); probabilities are the vote shares
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"
#include "predict.hpp"

namespace ctformer {

/// How an ensemble combines its members' predictions.
enum class ensemble_vote { average_probabilities, average_logits, majority_vote };

/// A weighted ensemble of classifiers; members are held by reference and must outlive it.
class classifier_ensemble {
 public:
  /// An empty ensemble that will combine its members' predictions by `how`.
  explicit classifier_ensemble(ensemble_vote how = ensemble_vote::average_probabilities) : how_(how) {}

  /// Adds a member (any type with predict(span of strings) -> vector<class_prediction>).
  template <class Predictor>
  classifier_ensemble& add(Predictor& member, double weight = 1.0) {
    if (!(weight >= 0) || !std::isfinite(weight)) fail("classifier_ensemble: member weight {} must be >= 0", weight);
    members_.push_back([&member](std::span<const std::string> texts) { return member.predict(texts); });
    weights_.push_back(weight);
    return *this;
  }
  /// Every classifier of a range (the k fold models), weight 1 each.
  template <class Range>
  classifier_ensemble& add_all(Range& members) {
    for (auto& m : members) add(m);
    return *this;
  }
  /// Number of members.
  std::size_t size() const noexcept { return members_.size(); }

  /// The combined prediction for one text.
  class_prediction predict(std::string_view text) {
    const std::string one(text);
    return std::move(predict(std::span<const std::string>(&one, 1))[0]);
  }
  /// The combined predictions for many texts (each member predicts them all once).
  std::vector<class_prediction> predict(std::span<const std::string> texts) {
    if (members_.empty()) fail("classifier_ensemble: no members");
    double wsum = 0;
    for (double w : weights_) wsum += w;
    if (wsum == 0) fail("classifier_ensemble: the member weights sum to zero");
    std::vector<class_prediction> out(texts.size());
    std::size_t classes = 0;
    for (std::size_t m = 0; m < members_.size(); ++m) {
      const auto preds = members_[m](texts);
      if (preds.size() != texts.size())
        fail("classifier_ensemble: member {} returned {} predictions for {} texts", m, preds.size(), texts.size());
      for (std::size_t i = 0; i < texts.size(); ++i) {
        const class_prediction& p = preds[i];
        if (m == 0 && i == 0) classes = p.probabilities.size();
        if (p.probabilities.size() != classes)
          fail("classifier_ensemble: member {} predicts {} classes, member 0 {}", m, p.probabilities.size(), classes);
        auto& acc = out[i].probabilities;  // the running weighted sum, whatever is combined
        acc.resize(classes, 0.0);
        if (how_ == ensemble_vote::majority_vote) {
          acc[std::size_t(p.label)] += weights_[m];
        } else {
          const auto& src = how_ == ensemble_vote::average_logits ? p.logits : p.probabilities;
          if (src.size() != classes) fail("classifier_ensemble: member {} gives no logits", m);
          for (std::size_t k = 0; k < classes; ++k) acc[k] += weights_[m] * src[k];
        }
      }
    }
    for (auto& c : out) {
      auto& v = c.probabilities;
      for (auto& x : v) x /= wsum;
      if (how_ == ensemble_vote::average_logits) {
        c.logits = v;
        double mx = v[0], s = 0;
        for (double x : v) mx = std::max(mx, x);
        for (auto& x : v) s += x = std::exp(x - mx);
        for (auto& x : v) x /= s;
      }
      c.label = 0;
      for (std::size_t k = 1; k < v.size(); ++k)
        if (v[k] > v[std::size_t(c.label)]) c.label = std::int32_t(k);
    }
    return out;
  }

 private:
  ensemble_vote how_;
  std::vector<std::function<std::vector<class_prediction>(std::span<const std::string>)>> members_;
  std::vector<double> weights_;
};

}  // namespace ctformer
