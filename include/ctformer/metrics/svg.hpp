// Line charts written as standalone SVG files (no plotting dependency): the ROC curve with its
// AUC, loss curves, and validation metrics over training. Each series is one <polyline
// class="series"> whose points attribute holds every finite (x, y) pair; NaN or infinite points
// are left out. Axis ticks are "nice" numbers (1, 2 or 5 times a power of ten).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "classification.hpp"
#include "core.hpp"
#include "report.hpp"

namespace ctformer::metrics::svg {

/// One line of a chart: points (x[i], y[i]) and a legend name.
struct series {
  std::string name;  ///< legend label
  std::vector<double> x;  ///< x coordinates
  std::vector<double> y;  ///< y coordinates, one per x
};

/// The interval an axis spans.
struct axis_range {
  double lo = 0;  ///< lower end
  double hi = 1;  ///< upper end
};

/// A line chart: labels, series, axis ranges and size.
struct chart {
  std::string title;    ///< heading of the chart
  std::string x_label;  ///< label of the x axis
  std::string y_label;  ///< label of the y axis
  std::vector<series> lines;                   ///< the series drawn
  std::optional<axis_range> x_range;  ///< x axis range; default: the data's extent, padded
  std::optional<axis_range> y_range;  ///< y axis range; default: the data's extent, padded
  bool diagonal = false;                       ///< the chance line y = x (ROC)
  int width = 720;   ///< pixels
  int height = 440;  ///< pixels
};

namespace detail {

inline std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

inline double nice_step(double span, int target_ticks) {
  const double raw = span / target_ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

inline std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-9) v = 0;  // no "-0" or "1e-17"
  const int decimals = std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
  if (std::abs(v) >= 1e6 || (v != 0 && std::abs(v) < 1e-4)) return fmt::format("{:.3g}", v);
  return fmt::format("{:.{}f}", v, decimals);
}

inline axis_range extent(const std::vector<series>& lines, bool use_x) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& s : lines)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        const double v = use_x ? s.x[i] : s.y[i];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (!(lo <= hi)) return {0, 1};  // no finite point
  if (lo == hi) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    return {lo - pad, hi + pad};
  }
  if (!use_x) {  // a little air above and below the curves
    const double pad = (hi - lo) * 0.05;
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

inline constexpr const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

}  // namespace detail

/// The SVG document of a chart.
inline std::string render(const chart& c) {
  for (const auto& s : c.lines)
    if (s.x.size() != s.y.size()) fail("svg: series \"{}\" has {} x and {} y values", s.name, s.x.size(), s.y.size());
  const double W = c.width, H = c.height;
  const double left = 72, right = 190, top = 44, bottom = 56;
  const double pw = W - left - right, ph = H - top - bottom;
  if (pw <= 0 || ph <= 0) fail("svg: a {}x{} chart is too small", c.width, c.height);
  const axis_range xr = c.x_range.value_or(detail::extent(c.lines, true));
  const axis_range yr = c.y_range.value_or(detail::extent(c.lines, false));
  if (!(xr.lo < xr.hi) || !(yr.lo < yr.hi)) fail("svg: empty axis range");
  auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto py = [&](double y) { return top + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; };
  using detail::escape;

  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n",
      c.width, c.height);
  s += fmt::format("<title>{}</title>\n", escape(c.title));
  s += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>\n", c.width, c.height);
  s += fmt::format("<text x=\"{:.1f}\" y=\"26\" text-anchor=\"middle\" font-size=\"16\">{}</text>\n", left + pw / 2,
                   escape(c.title));

  /// Grid and tick labels.
  s += "<g class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">\n";
  std::string labels;
  const double xs = detail::nice_step(xr.hi - xr.lo, 6), ys = detail::nice_step(yr.hi - yr.lo, 6);
  for (double t = std::ceil(xr.lo / xs - 1e-9) * xs; t <= xr.hi + xs * 1e-9; t += xs) {
    s += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1:.2f}\" x2=\"{0:.2f}\" y2=\"{2:.2f}\"/>\n", px(t), top, top + ph);
    labels += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">{}</text>\n", px(t), top + ph + 18,
                          detail::tick_label(t, xs));
  }
  for (double t = std::ceil(yr.lo / ys - 1e-9) * ys; t <= yr.hi + ys * 1e-9; t += ys) {
    s += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1:.2f}\" x2=\"{2:.2f}\" y2=\"{1:.2f}\"/>\n", left, py(t), left + pw);
    labels += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"end\">{}</text>\n", left - 8, py(t) + 4,
                          detail::tick_label(t, ys));
  }
  s += "</g>\n<g class=\"ticks\" fill=\"#333\">\n" + labels + "</g>\n";
  s += fmt::format("<rect class=\"frame\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"none\" stroke=\"#333\"/>\n",
                   left, top, pw, ph);
  s += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">{}</text>\n", left + pw / 2, H - 14,
                   escape(c.x_label));
  s += fmt::format("<text transform=\"translate(18 {:.2f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                   top + ph / 2, escape(c.y_label));

  /// Curves, clipped to the plot area.
  s += fmt::format("<clipPath id=\"plot\"><rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\"/></clipPath>\n",
                   left, top, pw, ph);
  s += "<g clip-path=\"url(#plot)\">\n";
  if (c.diagonal)
    s += fmt::format("<line class=\"chance\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\" stroke=\"#999\" "
                     "stroke-dasharray=\"5 4\"/>\n",
                     px(xr.lo), py(yr.lo), px(xr.hi), py(yr.hi));
  for (std::size_t k = 0; k < c.lines.size(); ++k) {
    const auto& l = c.lines[k];
    const char* color = detail::palette[k % std::size(detail::palette)];
    std::string pts;
    std::size_t n = 0;
    for (std::size_t i = 0; i < l.x.size(); ++i) {
      if (!std::isfinite(l.x[i]) || !std::isfinite(l.y[i])) continue;
      pts += fmt::format("{}{:.2f},{:.2f}", n ? " " : "", px(l.x[i]), py(l.y[i]));
      ++n;
    }
    s += fmt::format("<polyline class=\"series\" data-name=\"{}\" data-points=\"{}\" fill=\"none\" stroke=\"{}\" "
                     "stroke-width=\"2\" stroke-linejoin=\"round\" points=\"{}\"/>\n",
                     escape(l.name), n, color, pts);
    if (n <= 60) {  // markers make short series (and single points) visible
      s += fmt::format("<g class=\"markers\" fill=\"{}\">", color);
      for (std::size_t i = 0; i < l.x.size(); ++i)
        if (std::isfinite(l.x[i]) && std::isfinite(l.y[i]))
          s += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"2.5\"/>", px(l.x[i]), py(l.y[i]));
      s += "</g>\n";
    }
  }
  s += "</g>\n";

  /// Legend, right of the plot.
  s += "<g class=\"legend\">\n";
  for (std::size_t k = 0; k < c.lines.size(); ++k) {
    const double y = top + 10 + 20 * double(k);
    s += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1:.2f}\" x2=\"{2:.2f}\" y2=\"{1:.2f}\" stroke=\"{3}\" stroke-width=\"3\"/>",
                     left + pw + 14, y, left + pw + 38, detail::palette[k % std::size(detail::palette)]);
    s += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\">{}</text>\n", left + pw + 44, y + 4, escape(c.lines[k].name));
  }
  s += "</g>\n</svg>\n";
  return s;
}

inline void write(const std::string& path, const chart& c) {
  const std::string doc = render(c);
  std::ofstream f(path, std::ios::binary);
  if (!f) fail("svg: cannot open '{}' for writing", path);
  f << doc;
  if (!f) fail("svg: writing '{}' failed", path);
}

/// The ROC curve with the chance diagonal; the legend shows the AUC.
inline void write_roc(const std::string& path, const roc_curve_result& roc, double auc_value,
                      std::string title = "ROC curve") {
  for (std::size_t i = 0; i < roc.fpr.size(); ++i)
    if (std::isnan(roc.fpr[i]) || std::isnan(roc.tpr[i]))
      fail("svg::write_roc: the curve has NaN rates (y_true holds a single class)");
  chart c;
  c.title = std::move(title);
  c.x_label = "false positive rate";
  c.y_label = "true positive rate";
  c.x_range = axis_range{0, 1};
  c.y_range = axis_range{0, 1};
  c.diagonal = true;
  c.lines.push_back({fmt::format("ROC (AUC = {:.4f})", auc_value), roc.fpr, roc.tpr});
  write(path, c);
}

/// Loss against step, one line per curve (e.g. "train" every step and "validation" per eval).
inline void write_loss(const std::string& path, std::vector<series> curves, std::string title = "Loss") {
  chart c;
  c.title = std::move(title);
  c.x_label = "step";
  c.y_label = "loss";
  c.lines = std::move(curves);
  write(path, c);
}

/// Chosen metrics of a history against step (all of them when `names` is empty).
inline void write_history(const std::string& path, const metric_history& h, std::vector<std::string> names = {},
                          std::string title = "Validation metrics") {
  if (names.empty()) names = h.names();
  chart c;
  c.title = std::move(title);
  c.x_label = "step";
  c.y_label = "value";
  for (const auto& n : names) {
    series s{n, {}, {}};
    h.series(n, s.x, s.y);
    if (s.x.empty()) fail("svg::write_history: no evaluation reported \"{}\"", n);
    c.lines.push_back(std::move(s));
  }
  write(path, c);
}

}  // namespace ctformer::metrics::svg
