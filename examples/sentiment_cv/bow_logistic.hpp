// A bag-of-words logistic regression trained by full-batch gradient descent: the small model that
// the cross-validation example and test plug in until the transformer classifier lands.
// p(positive | text) = sigmoid(w . x + b), x = word presence / sqrt(word count); loss = mean
// binary cross-entropy + (l2 / 2) |w|^2. The vocabulary comes from the training rows only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <ctformer/data/datasets.hpp>
#include <ctformer/error.hpp>

namespace sentiment {

struct example {
  std::string text;
  std::int32_t label;  // 1 positive, 0 negative
};

// The UCI sentiment files (amazon, imdb, yelp): "sentence<TAB>label" per line, split on the
// last tab (see the data folder's README). A missing, empty or invalid-UTF-8 file, or a bad line,
// is an error naming the file and line (and the byte, for bad UTF-8).
inline std::vector<example> read_all(const std::filesystem::path& dir) {
  std::vector<example> out;
  for (const char* name : {"amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"}) {
    ctformer::tsv_options o;
    o.names_from_data = false;  // labels are 0 or 1
    const std::string path = (dir / name).string();
    const auto set = ctformer::load_classification_tsv(path, o);
    if (set.texts.empty()) ctformer::fail("sentiment: '{}' holds no examples", path);
    for (std::size_t i = 0; i < set.texts.size(); ++i) {
      if (set.labels[i] > 1) ctformer::fail("sentiment: '{}': example {} has label {} (expected 0 or 1)", path, i + 1, set.labels[i]);
      out.push_back({set.texts[i], set.labels[i]});
    }
  }
  return out;
}

// Lower-case ASCII words (letters, digits, apostrophes); other bytes separate words.
inline std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string w;
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'';
    if (alnum) {
      w.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

class bow_logistic {
 public:
  struct options {
    double lr = 20.0;  // large: the loss is a mean, features have norm 1 and each word is rare
    std::size_t epochs = 1000;
    double l2 = 1e-5;
  };

  // Called after every epoch with (epoch, mean training loss); return false to stop early.
  template <class OnEpoch>
  void fit(std::span<const example> data, std::span<const std::size_t> rows, const options& o, OnEpoch&& on_epoch) {
    vocab_.clear();
    for (std::size_t r : rows)
      for (auto& w : words(data[r].text)) vocab_.emplace(std::move(w), vocab_.size());
    w_.assign(vocab_.size(), 0.0);
    b_ = 0;
    std::vector<std::vector<std::size_t>> x;  // feature ids of each training row
    for (std::size_t r : rows) x.push_back(features(data[r].text));
    std::vector<double> g(w_.size());
    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
      std::fill(g.begin(), g.end(), 0.0);
      double gb = 0, loss = 0;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const double z = dot(x[i]);
        const double y = data[rows[i]].label;
        loss += std::log1p(std::exp(-std::abs(z))) + std::max(z, 0.0) - y * z;  // stable BCE with logits
        const double d = (1 / (1 + std::exp(-z)) - y) / double(rows.size());
        const double scale = 1 / std::sqrt(double(std::max<std::size_t>(x[i].size(), 1)));
        for (std::size_t f : x[i]) g[f] += d * scale;
        gb += d;
      }
      for (std::size_t f = 0; f < w_.size(); ++f) w_[f] -= o.lr * (g[f] + o.l2 * w_[f]);
      // The bias sees every row, so its curvature (up to 1/4) is far above a word weight's:
      // gradient descent on it is stable only for steps below 8.
      b_ -= std::min(o.lr, 2.0) * gb;
      if (!on_epoch(epoch, loss / double(rows.size()))) break;
    }
  }

  // The logit z of a text; p(positive) = sigmoid(z). Unknown words are ignored.
  double logit(std::string_view text) const { return dot(features(text)); }

 private:
  std::vector<std::size_t> features(std::string_view text) const {
    std::vector<std::size_t> ids;
    for (const auto& w : words(text))
      if (auto it = vocab_.find(w); it != vocab_.end()) ids.push_back(it->second);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());  // presence, not counts
    return ids;
  }
  double dot(const std::vector<std::size_t>& ids) const {
    double z = b_;
    const double scale = 1 / std::sqrt(double(std::max<std::size_t>(ids.size(), 1)));
    for (std::size_t f : ids) z += w_[f] * scale;
    return z;
  }

  std::unordered_map<std::string, std::size_t> vocab_;
  std::vector<double> w_;
  double b_ = 0;
};

}  // namespace sentiment
