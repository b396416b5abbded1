// Reports and SVG plots: the table and JSON of an evaluation and of a cross-validation, and SVG
// files that a small XML well-formedness checker (written here; no dependency) accepts, with the
// expected number of points in every curve.
#include <catch2/catch.hpp>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <ctformer/metrics/classification.hpp>
#include <ctformer/metrics/cross_validation.hpp>
#include <ctformer/metrics/report.hpp>
#include <ctformer/metrics/svg.hpp>

#include "fixtures.hpp"

namespace m = ctformer::metrics;
namespace fs = std::filesystem;
using namespace ctformer::testing;

namespace {

// ---- a minimal XML 1.0 well-formedness checker -----------------------------------------------
// Checks: one root element, properly nested and matching tags, attribute syntax (quoted values,
// no '<', no duplicates), character and entity references, comments, processing instructions and
// the XML declaration. Collects every element's name and attributes in document order.
struct element {
  std::string name;
  std::map<std::string, std::string> attrs;
};

class xml_checker {
 public:
  explicit xml_checker(std::string_view s) : s_(s) {}

  // Empty when well-formed, else what is wrong and where.
  std::string check() {
    try {
      if (s_.substr(0, 5) == "<?xml") pi();
      misc();
      if (!peek('<')) error("no root element");
      elem();
      misc();
      if (pos_ != s_.size()) error("content after the root element");
    } catch (const std::string& e) {
      return e;
    }
    return {};
  }
  const std::vector<element>& elements() const { return elements_; }

 private:
  [[noreturn]] void error(const std::string& what) { throw what + " at byte " + std::to_string(pos_); }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool starts(std::string_view t) const { return s_.substr(pos_, t.size()) == t; }
  void expect(std::string_view t) {
    if (!starts(t)) error("expected '" + std::string(t) + "'");
    pos_ += t.size();
  }
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  static bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
  static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
  std::string name() {
    if (pos_ >= s_.size() || !name_start(s_[pos_])) error("expected a name");
    const std::size_t b = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
    return std::string(s_.substr(b, pos_ - b));
  }
  void reference() {  // at '&'
    ++pos_;
    if (peek('#')) {
      ++pos_;
      const bool hex = peek('x');
      if (hex) ++pos_;
      const std::size_t b = pos_;
      while (pos_ < s_.size() && (std::isdigit((unsigned char)s_[pos_]) || (hex && std::isxdigit((unsigned char)s_[pos_]))))
        ++pos_;
      if (pos_ == b) error("empty character reference");
    } else {
      const std::string n = name();
      if (n != "amp" && n != "lt" && n != "gt" && n != "quot" && n != "apos") error("unknown entity &" + n + ";");
    }
    expect(";");
  }
  void comment() {
    expect("<!--");
    const std::size_t e = s_.find("-->", pos_);
    if (e == std::string_view::npos) error("unterminated comment");
    if (s_.substr(pos_, e - pos_).find("--") != std::string_view::npos) error("'--' inside a comment");
    pos_ = e + 3;
  }
  void pi() {
    expect("<?");
    name();
    const std::size_t e = s_.find("?>", pos_);
    if (e == std::string_view::npos) error("unterminated processing instruction");
    pos_ = e + 2;
  }
  void misc() {
    for (;;) {
      ws();
      if (starts("<!--")) comment();
      else if (starts("<?")) pi();
      else return;
    }
  }
  void elem() {
    expect("<");
    element el;
    el.name = name();
    for (;;) {
      const std::size_t before = pos_;
      ws();
      if (starts("/>")) {
        pos_ += 2;
        elements_.push_back(std::move(el));
        return;
      }
      if (peek('>')) {
        ++pos_;
        break;
      }
      if (pos_ == before) error("expected whitespace before an attribute");
      const std::string an = name();
      ws();
      expect("=");
      ws();
      if (!peek('"') && !peek('\'')) error("attribute value without quotes");
      const char q = s_[pos_++];
      std::string value;
      while (!peek(q)) {
        if (pos_ >= s_.size()) error("unterminated attribute value");
        if (peek('<')) error("'<' in an attribute value");
        if (peek('&')) {
          const std::size_t b = pos_;
          reference();
          value += s_.substr(b, pos_ - b);
        } else {
          value += s_[pos_++];
        }
      }
      ++pos_;
      if (!el.attrs.emplace(an, value).second) error("duplicate attribute " + an);
    }
    const std::string open = el.name;
    elements_.push_back(std::move(el));
    for (;;) {  // content
      if (pos_ >= s_.size()) error("unclosed element <" + open + ">");
      if (starts("</")) {
        pos_ += 2;
        if (name() != open) error("mismatched closing tag for <" + open + ">");
        ws();
        expect(">");
        return;
      }
      if (starts("<!--")) comment();
      else if (starts("<?")) pi();
      else if (starts("<![CDATA[")) {
        const std::size_t e = s_.find("]]>", pos_);
        if (e == std::string_view::npos) error("unterminated CDATA");
        pos_ = e + 3;
      } else if (peek('<')) elem();
      else if (peek('&')) reference();
      else ++pos_;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::vector<element> elements_;
};

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Number of "x,y" pairs in a points attribute.
std::size_t count_points(const std::string& pts) {
  std::istringstream in(pts);
  std::string pair;
  std::size_t n = 0;
  while (in >> pair) {
    const auto comma = pair.find(',');
    REQUIRE(comma != std::string::npos);
    std::stod(pair.substr(0, comma));
    std::stod(pair.substr(comma + 1));
    ++n;
  }
  return n;
}

struct svg_file {
  std::vector<element> elements;
  std::vector<std::size_t> series_points;  // per <polyline class="series">
  std::vector<std::string> series_names;
};

svg_file load_svg(const fs::path& p) {
  const std::string text = read_file(p);
  xml_checker x(text);
  const std::string err = x.check();
  INFO(p.string() << ": " << err);
  REQUIRE(err.empty());
  svg_file f;
  f.elements = x.elements();
  REQUIRE(f.elements.front().name == "svg");
  CHECK(f.elements.front().attrs.at("xmlns") == "http://www.w3.org/2000/svg");
  for (const auto& e : f.elements)
    if (e.name == "polyline" && e.attrs.count("class") && e.attrs.at("class") == "series") {
      f.series_points.push_back(count_points(e.attrs.at("points")));
      CHECK(std::to_string(f.series_points.back()) == e.attrs.at("data-points"));
      f.series_names.push_back(e.attrs.at("data-name"));
    }
  return f;
}

fs::path out_dir() {
  const fs::path d = fs::path(CTFORMER_TEST_BINARY_DIR) / "metrics_out";
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("the XML checker accepts well-formed and rejects malformed documents", "[metrics]") {
  CHECK(xml_checker("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/><!-- c --><c y='&amp;'>t&lt;&#38;&#x26;</c></a>\n").check().empty());
  for (const char* bad : {"<a><b></a></b>", "<a>", "<a x=1/>", "<a x=\"1\" x=\"2\"/>", "<a>&nbsp;</a>", "<a/><b/>",
                          "<a x=\"<\"/>", "text", "<a>&amp</a>", "<a><!-- -- --></a>", "<1a/>", "<a y=\"1\"z=\"2\"/>"}) {
    INFO(bad);
    CHECK_FALSE(xml_checker(bad).check().empty());
  }
}

TEST_CASE("the ROC, loss and metrics-history SVGs are well-formed with every point", "[metrics]") {
  const auto fx = load_fixture("curves.json");
  const auto dir = out_dir();
  std::size_t rocs = 0;
  for (const auto& c : fx.at("binary").as_array()) {
    if (c.at("expected").at("roc_auc").is_null()) continue;
    const auto y = ints(c.at("y_true"));
    const auto s = doubles(c.at("scores"));
    const auto roc = m::roc_curve(y, s);
    const auto path = dir / "roc.svg";
    m::svg::write_roc(path.string(), roc, m::roc_auc_score(y, s), "ROC <test> & more");
    const auto f = load_svg(path);
    REQUIRE(f.series_points.size() == 1);
    CHECK(f.series_points[0] == roc.fpr.size());
    if (++rocs == 20) break;
  }
  // Loss curves: 200 training steps, a validation point every 25 steps, one NaN left out.
  m::svg::series train{"train", {}, {}}, val{"validation", {}, {}};
  for (int i = 1; i <= 200; ++i) {
    train.x.push_back(i);
    train.y.push_back(2.0 / std::sqrt(double(i)) + 0.05 * std::sin(i));
    if (i % 25 == 0) {
      val.x.push_back(i);
      val.y.push_back(i == 100 ? std::nan("") : 2.2 / std::sqrt(double(i)));
    }
  }
  const auto loss_path = dir / "loss.svg";
  m::svg::write_loss(loss_path.string(), {train, val});
  const auto lf = load_svg(loss_path);
  CHECK(lf.series_points == std::vector<std::size_t>{200, 7});
  CHECK(lf.series_names == std::vector<std::string>{"train", "validation"});

  m::metric_history h;
  for (std::size_t step = 100; step <= 1000; step += 100) {
    m::metric_set ms;
    ms.set("val/accuracy", 0.5 + 0.04 * double(step) / 100);
    ms.set("val/f1", 0.45 + 0.04 * double(step) / 100);
    if (step >= 500) ms.set("val/auc \"late\"", 0.9);  // reported from step 500 on; quotes escaped
    h.add(step, ms);
  }
  const auto hist_path = dir / "history.svg";
  m::svg::write_history(hist_path.string(), h);
  const auto hf = load_svg(hist_path);
  CHECK(hf.series_points == std::vector<std::size_t>{10, 10, 6});
  CHECK(hf.series_names[2] == "val/auc &quot;late&quot;");
  CHECK_THROWS_WITH(m::svg::write_history((dir / "x.svg").string(), h, {"missing"}), Catch::Contains("\"missing\""));
  // A single-class ROC has NaN rates: refused rather than drawn empty.
  const std::vector<std::int32_t> ones = {1, 1};
  const std::vector<double> sc = {0.1, 0.2};
  CHECK_THROWS_WITH(m::svg::write_roc((dir / "x.svg").string(), m::roc_curve(ones, sc), 0.5),
                    Catch::Contains("single class"));
}

TEST_CASE("report prints an aligned table and writes the same numbers as JSON", "[metrics]") {
  const auto dir = out_dir();
  m::metric_set ms;
  ms.set("accuracy", 0.875);
  ms.set("f1_macro", 2.0 / 3.0);
  ms.set("r2", std::nan(""));
  const std::vector<std::int32_t> y = {0, 1, 1, 0}, p = {0, 1, 0, 0};
  const auto cm = m::confusion_matrix::from_labels(y, p);
  const auto tmp = dir / "table.txt";
  std::FILE* out = std::fopen(tmp.string().c_str(), "w");
  REQUIRE(out);
  m::report_options ro;
  ro.title = "eval";
  ro.json_path = (dir / "report.json").string();
  ro.out = out;
  ro.confusion = &cm;
  ro.class_names = {"neg", "pos"};
  m::report(ms, ro);
  std::fclose(out);
  CHECK(read_file(tmp) ==
        "eval\n"
        "metric           value\n"
        "accuracy        0.8750\n"
        "f1_macro        0.6667\n"
        "r2                 nan\n"
        "\nconfusion matrix\n"
        "true \\ predicted  neg  pos\n"
        "neg                 2    0\n"
        "pos                 1    1\n");
  const auto j = ctformer::json::parse(read_file(dir / "report.json"));
  CHECK(j.at("title").as_string() == "eval");
  CHECK(j.at("metrics").at("accuracy").as_number() == 0.875);
  CHECK(j.at("metrics").at("f1_macro").as_number() == 2.0 / 3.0);  // full precision in JSON
  CHECK(j.at("metrics").at("r2").is_null());
  CHECK(j.at("confusion_matrix").at("rows_true_columns_predicted").at(1).at(0).as_int() == 1);

  std::vector<m::metric_set> folds(3);
  for (int i = 0; i < 3; ++i) folds[i].set("accuracy", 0.7 + 0.1 * i);
  const auto cv = m::summarize_folds(folds);
  const auto table = m::format_table(cv, "cv");
  CHECK(table ==
        "cv\n"
        "metric         mean ± std    fold 1    fold 2    fold 3\n"
        "accuracy  0.8000 ± 0.0816    0.7000    0.8000    0.9000\n");
  m::report_options quiet;
  quiet.json_path = (dir / "cv.json").string();
  quiet.out = nullptr;
  m::report(cv, quiet);
  const auto cj = ctformer::json::parse(read_file(dir / "cv.json"));
  CHECK(cj.at("summary").at("accuracy").at("mean").as_number() == Approx(0.8));
  CHECK(cj.at("summary").at("accuracy").at("std").as_number() == Approx(std::sqrt(0.02 / 3)));
  CHECK(cj.at("folds").size() == 3);
}
