// A small JSON value with a strict parser and a writer, for the few JSON files ctformer reads and
// writes: tokenizer vocabularies (encoder.json), JSON-lines fixtures, safetensors headers,
// checkpoint metadata and metric reports. Objects keep their key order. Strings are UTF-8;
// \uXXXX escapes (with surrogate pairs) become UTF-8. Errors name the line and column.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "../base/utf8.hpp"
#include "../error.hpp"

namespace ctformer::json {

class value;
using array = std::vector<value>;
using object = std::vector<std::pair<std::string, value>>;

/// A JSON value: null, boolean, number (double), string, array or object (ordered members).
class value {
 public:
  /// What a value holds, in the order of its variant.
  enum class kind { null, boolean, number, string, array, object };

  value() = default;
  value(std::nullptr_t) {}  ///< null
  value(bool b) : v_(b) {}  ///< a boolean
  value(double d) : v_(d) {}  ///< a number
  value(int i) : v_(double(i)) {}  ///< a number
  value(long i) : v_(double(i)) {}  ///< a number
  value(long long i) : v_(double(i)) {}  ///< a number
  value(unsigned i) : v_(double(i)) {}  ///< a number
  value(unsigned long i) : v_(double(i)) {}  ///< a number
  value(unsigned long long i) : v_(double(i)) {}  ///< a number
  value(const char* s) : v_(std::string(s)) {}  ///< a string
  value(std::string s) : v_(std::move(s)) {}  ///< a string
  value(std::string_view s) : v_(std::string(s)) {}  ///< a string
  value(array a) : v_(std::make_shared<array>(std::move(a))) {}  ///< an array
  value(object o) : v_(std::make_shared<object>(std::move(o))) {}  ///< an object

  kind type() const noexcept { return static_cast<kind>(v_.index()); }  ///< what the value holds
  bool is_null() const noexcept { return type() == kind::null; }  ///< holds null
  bool is_bool() const noexcept { return type() == kind::boolean; }  ///< holds a boolean
  bool is_number() const noexcept { return type() == kind::number; }  ///< holds a number
  bool is_string() const noexcept { return type() == kind::string; }  ///< holds a string
  bool is_array() const noexcept { return type() == kind::array; }  ///< holds an array
  bool is_object() const noexcept { return type() == kind::object; }  ///< holds an object

  /// The boolean; fails on any other kind.
  bool as_bool() const { return get<bool>("a boolean"); }
  /// The number; fails on any other kind.
  double as_number() const { return get<double>("a number"); }
  /// The number as an integer; fails when it has a fractional part or does not fit.
  long long as_int() const {
    const double d = as_number();
    if (std::trunc(d) != d || std::abs(d) > 9007199254740992.0)
      fail("json: expected an integer, found {}", d);
    return static_cast<long long>(d);
  }
  /// The string; fails on any other kind.
  const std::string& as_string() const { return get<std::string>("a string"); }
  /// The elements; fails on any other kind.
  const array& as_array() const { return *get<std::shared_ptr<array>>("an array"); }
  /// The elements, writable; fails on any other kind.
  array& as_array() { return *get_mut<std::shared_ptr<array>>("an array"); }
  /// The members; fails on any other kind.
  const object& as_object() const { return *get<std::shared_ptr<object>>("an object"); }
  /// The members, writable; fails on any other kind.
  object& as_object() { return *get_mut<std::shared_ptr<object>>("an object"); }

  /// Member lookup (linear; objects here are small or iterated whole). Null when absent.
  const value* find(std::string_view key) const {
    for (const auto& [k, v] : as_object())
      if (k == key) return &v;
    return nullptr;
  }
  /// Member by key; fails when absent.
  const value& at(std::string_view key) const {
    if (const value* v = find(key)) return *v;
    fail("json: missing key \"{}\"", key);
  }
  /// Element i of an array; fails when out of range.
  const value& at(std::size_t i) const {
    const auto& a = as_array();
    if (i >= a.size()) fail("json: index {} out of range (size {})", i, a.size());
    return a[i];
  }
  /// Appends or replaces a member of an object.
  value& set(std::string key, value v) {
    if (is_null()) v_ = std::make_shared<object>();
    for (auto& [k, old] : as_object())
      if (k == key) return old = std::move(v);
    as_object().emplace_back(std::move(key), std::move(v));
    return as_object().back().second;
  }
  /// Appends an element to an array (a null becomes an empty array first).
  value& push_back(value v) {
    if (is_null()) v_ = std::make_shared<array>();
    as_array().push_back(std::move(v));
    return as_array().back();
  }
  /// Elements of an array or members of an object; fails on any other kind.
  std::size_t size() const {
    if (is_array()) return as_array().size();
    if (is_object()) return as_object().size();
    fail("json: size() of a value that is neither an array nor an object");
  }

  /// Parses JSON text; fails with the position of the first error.
  static value parse(std::string_view text);
  /// Compact when indent < 0; otherwise pretty-printed with `indent` spaces.
  std::string dump(int indent = -1) const {
    std::string out;
    write(out, indent, 0);
    return out;
  }

 private:
  template <class T>
  const T& get(const char* what) const {
    if (const T* p = std::get_if<T>(&v_)) return *p;
    fail("json: expected {}, found {}", what, kind_name());
  }
  template <class T>
  T& get_mut(const char* what) {
    if (T* p = std::get_if<T>(&v_)) return *p;
    fail("json: expected {}, found {}", what, kind_name());
  }
  const char* kind_name() const {
    static const char* names[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
    return names[v_.index()];
  }
  void write(std::string& out, int indent, int depth) const;

  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>,
               std::shared_ptr<object>>
      v_{nullptr};
};

/// Appends s to out as a JSON string literal (raw UTF-8; escapes only what JSON requires).
inline void write_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(char(c));
        }
    }
  }
  out.push_back('"');
}

inline void write_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";  // JSON has no NaN or infinity
    return;
  }
  char buf[32];
  if (std::trunc(d) == d && std::abs(d) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", d);
  else
    std::snprintf(buf, sizeof buf, "%.17g", d);
  out += buf;
}

inline void value::write(std::string& out, int indent, int depth) const {
  auto newline = [&](int d) {
    if (indent < 0) return;
    out.push_back('\n');
    out.append(std::size_t(indent) * std::size_t(d), ' ');
  };
  switch (type()) {
    case kind::null: out += "null"; break;
    case kind::boolean: out += as_bool() ? "true" : "false"; break;
    case kind::number: write_number(out, as_number()); break;
    case kind::string: write_string(out, as_string()); break;
    case kind::array: {
      const auto& a = as_array();
      out.push_back('[');
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out.push_back(',');
        newline(depth + 1);
        a[i].write(out, indent, depth + 1);
      }
      if (!a.empty()) newline(depth);
      out.push_back(']');
      break;
    }
    case kind::object: {
      const auto& o = as_object();
      out.push_back('{');
      for (std::size_t i = 0; i < o.size(); ++i) {
        if (i) out.push_back(',');
        newline(depth + 1);
        write_string(out, o[i].first);
        out += indent < 0 ? ":" : ": ";
        o[i].second.write(out, indent, depth + 1);
      }
      if (!o.empty()) newline(depth);
      out.push_back('}');
      break;
    }
  }
}

namespace detail {

class parser {
 public:
  explicit parser(std::string_view s) : s_(s) {}

  value parse_document() {
    skip_ws();
    value v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) error("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void error(std::string_view what) const {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    fail("json: {} at line {}, column {}", what, line, col);
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
      ++pos_;
  }
  bool consume(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect_word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) error("invalid literal");
    pos_ += w.size();
  }

  value parse_value(int depth) {
    if (depth > 512) error("nesting too deep");
    if (pos_ >= s_.size()) error("unexpected end of input");
    switch (s_[pos_]) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return value(parse_string());
      case 't': expect_word("true"); return value(true);
      case 'f': expect_word("false"); return value(false);
      case 'n': expect_word("null"); return value(nullptr);
      default: return value(parse_number());
    }
  }

  value parse_object(int depth) {
    ++pos_;
    object o;
    skip_ws();
    if (consume('}')) return value(std::move(o));
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') error("expected a string key");
      std::string key = parse_string();
      skip_ws();
      if (!consume(':')) error("expected ':'");
      skip_ws();
      o.emplace_back(std::move(key), parse_value(depth + 1));
      skip_ws();
      if (consume('}')) break;
      if (!consume(',')) error("expected ',' or '}'");
    }
    return value(std::move(o));
  }

  value parse_array(int depth) {
    ++pos_;
    array a;
    skip_ws();
    if (consume(']')) return value(std::move(a));
    for (;;) {
      skip_ws();
      a.push_back(parse_value(depth + 1));
      skip_ws();
      if (consume(']')) break;
      if (!consume(',')) error("expected ',' or ']'");
    }
    return value(std::move(a));
  }

  double parse_number() {
    const std::size_t start = pos_;
    consume('-');
    if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) error("invalid value");
    if (!consume('0'))
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    if (consume('.')) {
      if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) error("invalid number");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (!consume('+')) consume('-');
      if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) error("invalid number");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    const std::string text(s_.substr(start, pos_ - start));
    return std::strtod(text.c_str(), nullptr);
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > s_.size()) error("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else error("invalid \\u escape");
    }
    return v;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) error("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') break;
      if (c < 0x20) error("control character in string");
      if (c != '\\') {
        out.push_back(char(c));
        continue;
      }
      if (pos_ >= s_.size()) error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          char32_t cp = parse_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") error("unpaired high surrogate");
            pos_ += 2;
            const char32_t lo = parse_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) error("invalid low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            error("unpaired low surrogate");
          }
          utf8::append(out, cp);
          break;
        }
        default: error("invalid escape");
      }
    }
    return out;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace detail

inline value value::parse(std::string_view text) { return detail::parser(text).parse_document(); }

inline value parse(std::string_view text) { return value::parse(text); }

}  // namespace ctformer::json
