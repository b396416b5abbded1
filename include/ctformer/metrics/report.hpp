// Reports: one call prints a metrics table to the terminal and writes the same numbers as JSON
// (through ctformer::json), for a single evaluation or a cross-validation (mean ± std and every
// fold). metric_history records metric_sets over training steps for the SVG plots and the JSON.
// NaN values print as "nan" and are written as JSON null.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "classification.hpp"
#include "core.hpp"
#include "cross_validation.hpp"

namespace ctformer::metrics {

/// Metric values recorded at training steps (one metric_set per evaluation).
class metric_history {
 public:
  /// Records the metrics of the evaluation at training step `step`.
  void add(std::size_t step, metric_set values) {
    steps_.push_back(step);
    values_.push_back(std::move(values));
  }
  /// Number of evaluations recorded.
  std::size_t size() const noexcept { return steps_.size(); }
  /// Training step of each evaluation.
  const std::vector<std::size_t>& steps() const noexcept { return steps_; }
  /// Metrics of each evaluation.
  const std::vector<metric_set>& values() const noexcept { return values_; }
  /// Every metric name, in order of first appearance.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& m : values_)
      for (const auto& e : m)
        if (std::find(out.begin(), out.end(), e.name) == out.end()) out.push_back(e.name);
    return out;
  }
  /// (step, value) of one metric at the evaluations that reported it.
  void series(std::string_view name, std::vector<double>& x, std::vector<double>& y) const {
    x.clear();
    y.clear();
    for (std::size_t i = 0; i < steps_.size(); ++i)
      if (auto v = values_[i].find(name)) {
        x.push_back(double(steps_[i]));
        y.push_back(*v);
      }
  }
  /// [{"step": s, "metrics": {...}}, ...] in recording order.
  json::value to_json() const {
    json::value a = json::array{};
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      json::value e = json::object{};
      e.set("step", steps_[i]);
      e.set("metrics", values_[i].to_json());
      a.push_back(std::move(e));
    }
    return a;
  }

 private:
  std::vector<std::size_t> steps_;
  std::vector<metric_set> values_;
};

/// Options of report(): title, where the table and the JSON go, confusion matrix.
struct report_options {
  std::string title;                            ///< printed above the table and stored in the JSON
  std::string json_path;                        ///< empty: no file
  std::FILE* out = stdout;                      ///< nullptr: no table
  int digits = 4;                               ///< decimals in the table (JSON keeps full precision)
  const confusion_matrix* confusion = nullptr;  ///< printed under the table and stored when set
  std::vector<std::string> class_names;         ///< labels of the confusion matrix
};

inline void write_json_file(const std::string& path, const json::value& v) {
  std::ofstream f(path, std::ios::binary);
  if (!f) fail("report: cannot open '{}' for writing", path);
  f << v.dump(2) << '\n';
  if (!f) fail("report: writing '{}' failed", path);
}

namespace detail {

/// Terminal columns of UTF-8 text: one per code point (the tables hold no wide characters).
inline std::size_t columns(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
inline std::string pad_left(std::string_view s, std::size_t w) {
  const std::size_t c = columns(s);
  return std::string(c < w ? w - c : 0, ' ') + std::string(s);
}
inline std::string pad_right(std::string_view s, std::size_t w) {
  const std::size_t c = columns(s);
  return std::string(s) + std::string(c < w ? w - c : 0, ' ');
}

inline std::string fmt_value(double v, int digits) {
  return std::isnan(v) ? std::string("nan") : fmt::format("{:.{}f}", v, digits);
}

inline json::value confusion_json(const confusion_matrix& cm, const std::vector<std::string>& names) {
  json::value rows = json::array{};
  for (std::size_t t = 0; t < cm.num_classes(); ++t) {
    json::value r = json::array{};
    for (std::size_t p = 0; p < cm.num_classes(); ++p) r.push_back(cm.count(t, p));
    rows.push_back(std::move(r));
  }
  json::value labels = json::array{};
  for (std::size_t c = 0; c < cm.num_classes(); ++c) labels.push_back(names.empty() ? std::to_string(c) : names[c]);
  json::value v = json::object{};
  v.set("labels", std::move(labels));
  v.set("rows_true_columns_predicted", std::move(rows));
  return v;
}

inline void finish_report(std::string table, json::value doc, const report_options& o) {
  if (o.confusion) {
    table += "\nconfusion matrix\n" + format_confusion_matrix(*o.confusion, o.class_names);
    doc.set("confusion_matrix", confusion_json(*o.confusion, o.class_names));
  }
  if (o.out) {
    std::fputs(table.c_str(), o.out);
    std::fflush(o.out);
  }
  if (!o.json_path.empty()) write_json_file(o.json_path, doc);
}

}  // namespace detail

/// The aligned two-column table of one evaluation.
inline std::string format_table(const metric_set& m, std::string_view title = {}, int digits = 4) {
  std::size_t w = detail::columns("metric");
  for (const auto& e : m) w = std::max(w, detail::columns(e.name));
  std::string s;
  if (!title.empty()) s += fmt::format("{}\n", title);
  s += detail::pad_right("metric", w) + "  " + detail::pad_left("value", 12) + "\n";
  for (const auto& e : m) s += detail::pad_right(e.name, w) + "  " + detail::pad_left(detail::fmt_value(e.value, digits), 12) + "\n";
  return s;
}

/// The cross-validation table: mean ± std, then one column per fold.
inline std::string format_table(const cv_result& r, std::string_view title = {}, int digits = 4) {
  std::size_t w = detail::columns("metric");
  for (const auto& s : r.summary) w = std::max(w, detail::columns(s.name));
  std::vector<std::string> ms;
  std::size_t mw = detail::columns("mean ± std");
  for (const auto& s : r.summary) {
    ms.push_back(detail::fmt_value(s.mean, digits) + " ± " + detail::fmt_value(s.std, digits));
    mw = std::max(mw, detail::columns(ms.back()));
  }
  const std::size_t fw = std::size_t(digits) + 4;
  std::string s;
  if (!title.empty()) s += fmt::format("{}\n", title);
  s += detail::pad_right("metric", w) + "  " + detail::pad_left("mean ± std", mw);
  for (std::size_t f = 0; f < r.folds.size(); ++f) s += "  " + detail::pad_left(fmt::format("fold {}", f + 1), fw);
  s += '\n';
  for (std::size_t i = 0; i < r.summary.size(); ++i) {
    s += detail::pad_right(r.summary[i].name, w) + "  " + detail::pad_left(ms[i], mw);
    for (const auto& f : r.folds) s += "  " + detail::pad_left(detail::fmt_value(f.at(r.summary[i].name), digits), fw);
    s += '\n';
  }
  return s;
}

inline json::value to_json(const cv_result& r) {
  json::value summary = json::object{};
  for (const auto& s : r.summary) {
    json::value e = json::object{};
    e.set("mean", s.mean);
    e.set("std", s.std);
    e.set("min", s.min);
    e.set("max", s.max);
    summary.set(s.name, std::move(e));
  }
  json::value folds = json::array{};
  for (const auto& f : r.folds) folds.push_back(f.to_json());
  json::value v = json::object{};
  v.set("summary", std::move(summary));
  v.set("folds", std::move(folds));
  return v;
}

/// Prints the table and writes {"title", "metrics"} as JSON.
inline void report(const metric_set& m, const report_options& o = {}) {
  json::value doc = json::object{};
  doc.set("title", o.title);
  doc.set("metrics", m.to_json());
  detail::finish_report(format_table(m, o.title, o.digits), std::move(doc), o);
}

/// Prints the cross-validation table and writes {"title", "summary", "folds"} as JSON.
inline void report(const cv_result& r, const report_options& o = {}) {
  json::value doc = json::object{};
  doc.set("title", o.title);
  const json::value body = to_json(r);
  doc.set("summary", body.at("summary"));
  doc.set("folds", body.at("folds"));
  detail::finish_report(format_table(r, o.title, o.digits), std::move(doc), o);
}

}  // namespace ctformer::metrics
