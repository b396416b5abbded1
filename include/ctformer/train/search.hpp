// Hyperparameter search: a space of named runtime settings (uniform, log-uniform, integer or a
// list of choices - a choice may index a compile-time list of model configs, see
// with_config), trials from a full grid or seeded random draws, and successive halving: every
// trial runs on the smallest budget (optimizer steps, epochs: the objective decides), the best
// 1/eta go on with eta times the budget, until one budget is the largest. The objective is the
// caller's: score(trial, budget) trains and returns a validation score (or a k-fold CV mean).
// Seeded and reproducible; a report as a table, JSON and an SVG of score against a setting.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "../base/random.hpp"
#include "../error.hpp"
#include "../io/json.hpp"
#include "early_stopping.hpp"

namespace ctformer::search {

/// One dimension of a search space.
struct dimension {
  /// How values are drawn: uniform or log-uniform in [lo, hi], integers in [lo, hi], or choices.
  enum class kind : unsigned char { uniform, log_uniform, integer, choice };
  std::string name;            ///< the setting's name, as trial[name] reads it
  kind type = kind::uniform;   ///< how values are drawn
  double lo = 0;               ///< lower end of uniform, log_uniform (> 0) and integer ranges
  double hi = 1;               ///< upper end (inclusive for integers)
  std::vector<double> values;  ///< the choices
};

/// The settings a search explores, built by chained calls: space{}.log_uniform("lr", 1e-4, 1e-2).
struct space {
  std::vector<dimension> dims;  ///< the dimensions, in the order trials list their values
  /// Adds a real setting drawn uniformly from [lo, hi].
  space& uniform(std::string name, double lo, double hi) { return add({std::move(name), dimension::kind::uniform, lo, hi, {}}); }
  /// Adds a real setting whose logarithm is uniform in [log lo, log hi] (learning rates).
  space& log_uniform(std::string name, double lo, double hi) {
    if (!(lo > 0)) fail("search space '{}': a log-uniform range needs lo > 0, got {}", name, lo);
    return add({std::move(name), dimension::kind::log_uniform, lo, hi, {}});
  }
  /// Adds an integer setting in [lo, hi].
  space& integer(std::string name, long lo, long hi) {
    return add({std::move(name), dimension::kind::integer, double(lo), double(hi), {}});
  }
  /// Adds a setting taking one of the listed values (an index into a config list, a batch size).
  space& choice(std::string name, std::vector<double> values) {
    if (values.empty()) fail("search space '{}': no choices", name);
    return add({std::move(name), dimension::kind::choice, 0, 0, std::move(values)});
  }

 private:
  space& add(dimension d) {
    if (d.type != dimension::kind::choice && !(d.lo <= d.hi)) fail("search space '{}': lo {} > hi {}", d.name, d.lo, d.hi);
    for (const auto& e : dims)
      if (e.name == d.name) fail("search space: '{}' appears twice", d.name);
    dims.push_back(std::move(d));
    return *this;
  }
};

/// One point of the space: a value per dimension, in the space's order.
struct trial {
  std::size_t id = 0;                                  ///< position in the list the trials came from
  std::vector<std::pair<std::string, double>> values;  ///< (name, value) per dimension of the space
  /// The value of a setting; throws for a name the space does not have.
  double operator[](std::string_view name) const {
    for (const auto& [n, v] : values)
      if (n == name) return v;
    fail("trial {}: no setting '{}'", id, name);
  }
  /// The setting as an index (integer dimensions, choices of an index).
  std::size_t index(std::string_view name) const { return std::size_t(std::llround((*this)[name])); }
  /// The settings as "name=value ..." text.
  std::string str() const {
    std::string s;
    for (const auto& [n, v] : values) s += fmt::format("{}{}={:.6g}", s.empty() ? "" : " ", n, v);
    return s;
  }
};

/// The full grid: every choice, every integer, and `points` evenly spaced values (geometrically
/// for log_uniform) of each continuous range.
inline std::vector<trial> grid(const space& sp, std::size_t points = 3) {
  if (sp.dims.empty()) fail("search grid: the space is empty");
  std::vector<std::vector<double>> axes;
  for (const auto& d : sp.dims) {
    std::vector<double> a;
    switch (d.type) {
      case dimension::kind::choice: a = d.values; break;
      case dimension::kind::integer:
        for (long v = long(d.lo); v <= long(d.hi); ++v) a.push_back(double(v));
        break;
      case dimension::kind::uniform:
      case dimension::kind::log_uniform:
        for (std::size_t i = 0; i < points; ++i) {
          const double t = points == 1 ? 0.5 : double(i) / double(points - 1);
          a.push_back(d.type == dimension::kind::uniform ? d.lo + t * (d.hi - d.lo)
                                                         : std::exp(std::log(d.lo) + t * (std::log(d.hi) - std::log(d.lo))));
        }
        break;
    }
    axes.push_back(std::move(a));
  }
  std::vector<trial> out;
  std::vector<std::size_t> at(axes.size(), 0);
  for (;;) {
    trial t;
    t.id = out.size();
    for (std::size_t k = 0; k < axes.size(); ++k) t.values.emplace_back(sp.dims[k].name, axes[k][at[k]]);
    out.push_back(std::move(t));
    std::size_t k = axes.size();
    while (k-- > 0) {  // the last dimension varies fastest
      if (++at[k] < axes[k].size()) break;
      at[k] = 0;
    }
    if (k == std::size_t(-1)) break;
  }
  return out;
}

/// n seeded random draws (uniform, log-uniform, uniform integers, uniform choices).
inline std::vector<trial> random(const space& sp, std::size_t n, std::uint64_t seed) {
  if (sp.dims.empty()) fail("search random: the space is empty");
  rng r(seed);
  std::vector<trial> out;
  for (std::size_t i = 0; i < n; ++i) {
    trial t;
    t.id = i;
    for (const auto& d : sp.dims) {
      double v = 0;
      switch (d.type) {
        case dimension::kind::uniform: v = d.lo + r.uniform() * (d.hi - d.lo); break;
        case dimension::kind::log_uniform:
          v = std::exp(std::log(d.lo) + r.uniform() * (std::log(d.hi) - std::log(d.lo)));
          break;
        case dimension::kind::integer: v = d.lo + double(r.below(std::uint64_t(d.hi - d.lo) + 1)); break;
        case dimension::kind::choice: v = d.values[std::size_t(r.below(d.values.size()))]; break;
      }
      t.values.emplace_back(d.name, v);
    }
    out.push_back(std::move(t));
  }
  return out;
}

/// Successive halving's schedule.
struct halving_options {
  long min_budget = 1;  ///< the first rung's budget
  long max_budget = 9;  ///< no rung exceeds it; the last rung runs at it
  double eta = 3;       ///< keep the best 1/eta of a rung; multiply the budget by eta
  stop_mode mode = stop_mode::max;  ///< max: higher scores are better
};

/// A trial's scores, one per rung it reached.
struct trial_result {
  trial settings;                               ///< the trial's settings
  std::vector<std::pair<long, double>> scores;  ///< (budget, score) per rung reached
  /// The score at the largest budget the trial reached.
  double last() const { return scores.back().second; }
};

/// Every trial's results and the winner (the best score at the largest budget reached).
struct search_result {
  std::vector<trial_result> trials;  ///< every trial, in the order given
  std::size_t best = 0;              ///< index into trials
  long budget_spent = 0;             ///< the sum of the budgets of every score computed
  /// The best trial at the largest budget reached.
  const trial_result& winner() const { return trials[best]; }
};

/// Runs the trials with successive halving; score(trial, budget) -> double. Non-finite scores
/// rank last. Ties keep the lower trial id.
template <class Objective>
search_result successive_halving(std::vector<trial> trials, Objective&& score, const halving_options& o = {}) {
  if (trials.empty()) fail("successive_halving: no trials");
  if (!(o.eta > 1)) fail("successive_halving: eta must be > 1, got {}", o.eta);
  if (o.min_budget < 1 || o.max_budget < o.min_budget)
    fail("successive_halving: budgets {}..{} are not a range of positive numbers", o.min_budget, o.max_budget);
  search_result r;
  for (auto& t : trials) r.trials.push_back({std::move(t), {}});
  std::vector<std::size_t> alive(r.trials.size());
  for (std::size_t i = 0; i < alive.size(); ++i) alive[i] = i;
  const bool higher = o.mode == stop_mode::max;
  const auto key = [&](std::size_t i) {
    const double v = r.trials[i].last();
    return std::isfinite(v) ? (higher ? v : -v) : -INFINITY;
  };
  long budget = o.min_budget;
  for (;;) {
    for (std::size_t i : alive) {
      const double s = score(static_cast<const trial&>(r.trials[i].settings), budget);
      r.trials[i].scores.emplace_back(budget, s);
      r.budget_spent += budget;
    }
    std::stable_sort(alive.begin(), alive.end(), [&](std::size_t a, std::size_t b) { return key(a) > key(b); });
    if (budget >= o.max_budget || alive.size() == 1) break;
    alive.resize(std::max<std::size_t>(1, std::size_t(double(alive.size()) / o.eta)));
    budget = std::min(o.max_budget, long(std::ceil(double(budget) * o.eta)));
  }
  r.best = alive.front();
  return r;
}

/// A table of every trial (settings, score per rung), best first, and the winner.
inline std::string format_table(const search_result& r) {
  std::vector<std::size_t> order(r.trials.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = r.trials[a];
    const auto& y = r.trials[b];
    if (x.scores.size() != y.scores.size()) return x.scores.size() > y.scores.size();
    return a == r.best || (b != r.best && x.last() > y.last());
  });
  std::string s = "trial  scores by budget                 settings\n";
  for (std::size_t i : order) {
    const auto& t = r.trials[i];
    std::string sc;
    for (const auto& [b, v] : t.scores) sc += fmt::format("{}:{:.4f} ", b, v);
    s += fmt::format("{:>5}{} {:<32} {}\n", t.settings.id, i == r.best ? "*" : " ", sc, t.settings.str());
  }
  s += fmt::format("best: trial {} ({}), score {:.4f} at budget {}; total budget {}\n", r.winner().settings.id,
                   r.winner().settings.str(), r.winner().last(), r.winner().scores.back().first, r.budget_spent);
  return s;
}

/// The same as JSON: {"best": id, "budget_spent": n, "trials": [{"id", "settings", "scores"}]}.
inline json::value to_json(const search_result& r) {
  json::value doc;
  doc.set("best", long(r.winner().settings.id));
  doc.set("budget_spent", r.budget_spent);
  json::array trials;
  for (const auto& t : r.trials) {
    json::value e, settings;
    e.set("id", long(t.settings.id));
    for (const auto& [n, v] : t.settings.values) settings.set(n, v);
    e.set("settings", settings);
    json::array scores;
    for (const auto& [b, v] : t.scores) scores.push_back(json::value(json::array{json::value(b), json::value(v)}));
    e.set("scores", json::value(std::move(scores)));
    trials.push_back(std::move(e));
  }
  doc.set("trials", json::value(std::move(trials)));
  return doc;
}

/// An SVG scatter of each trial's last score against one setting (log x for log-uniform).
inline std::string svg_scores(const search_result& r, const std::string& setting, bool log_x = false) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  std::vector<std::pair<double, double>> pts;
  for (const auto& t : r.trials) {
    double x = t.settings[setting];
    if (log_x) x = std::log10(x);
    const double y = t.last();
    if (!std::isfinite(y)) continue;
    pts.emplace_back(x, y);
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  if (pts.empty()) fail("svg_scores: no finite scores");
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const double W = 480, H = 320, m = 48;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" "
      "stroke=\"black\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}{}</text>\n"
      "<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">score</text>\n"
      "<text x=\"{}\" y=\"{}\">{:.4g}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.4g}</text>\n"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.4g}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.4g}</text>\n",
      W, H, m, H - m, W - 8, H - m, m, 8, m, H - m, W / 2, H - 8, log_x ? "log10 " : "", setting, H / 2, H / 2, m,
      H - m + 16, log_x ? std::pow(10.0, x0) : x0, W - 8, H - m + 16, log_x ? std::pow(10.0, x1) : x1, m - 4, H - m, y0,
      m - 4, 16, y1);
  for (const auto& [x, y] : pts)
    s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"#1f77b4\"/>\n", m + (x - x0) / (x1 - x0) * (W - 8 - m),
                     H - m - (y - y0) / (y1 - y0) * (H - m - 8));
  return s + "</svg>\n";
}

namespace detail {
template <class R, auto... Cfgs, class F>
R with_config_at(std::size_t index, F& f) {
  if constexpr (std::is_void_v<R>) {
    std::size_t i = 0;
    ((i++ == index ? (f.template operator()<Cfgs>(), 0) : 0), ...);
  } else {
    R out{};
    std::size_t i = 0;
    ((i++ == index ? (out = f.template operator()<Cfgs>(), 0) : 0), ...);
    return out;
  }
}
}  // namespace detail

/// Calls f.template operator()<Cfg>() for the index-th config of a compile-time list, so that a
/// choice dimension can pick an architecture: with_config<small, large>(t.index("arch"), f). Every
/// instantiation must return the same type.
template <auto First, auto... Rest, class F>
decltype(auto) with_config(std::size_t index, F&& f) {
  constexpr std::size_t count = 1 + sizeof...(Rest);
  if (index >= count) fail("with_config: index {} but {} configs", index, count);
  using R = decltype(f.template operator()<First>());
  return detail::with_config_at<R, First, Rest...>(index, f);
}

}  // namespace ctformer::search
