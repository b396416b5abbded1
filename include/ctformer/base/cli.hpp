// Command-line options for small programs (the examples use it): "--name value" pairs and flags
// read from argv. A value must parse whole (no trailing characters, in range, finite); otherwise
// the program prints which option and value were wrong and exits through its usage function
// with status 2. Hosted builds only (it prints and exits).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ctformer::cli {

/// Reads an example's command-line options in turn; a bad value prints the message and calls usage(2).
class arg_reader {
 public:
  using usage_fn = void (*)(int);  ///< prints the options and exits with the given status
  /// Reads argv[1..argc); usage prints the options and exits.
  arg_reader(int argc, char** argv, usage_fn usage) : argc_(argc), argv_(argv), usage_(usage) {}

  /// Moves to the next option; false when none is left. "--help" and "-h" call usage(0).
  bool next() {
    if (++i_ >= argc_) return false;
    name_ = argv_[i_];
    if (name_ == "--help" || name_ == "-h") usage_(0);
    return true;
  }
  /// The current option, as written ("--steps").
  const std::string& name() const { return name_; }
  /// The current option is option.
  bool is(std::string_view option) const { return name_ == option; }

  /// The current option's value, as text or parsed.
  std::string text() {
    if (i_ + 1 >= argc_) bad("missing value after " + name_);
    return argv_[++i_];
  }
  /// The next argument as a long; a non-integer is a usage error.
  long integer() { return parse_int<long>("an integer"); }
  /// The next argument as a non-negative size.
  std::size_t count() { return parse_int<std::size_t>("a non-negative integer"); }
  /// The next argument as a non-negative 64-bit integer.
  std::uint64_t u64() { return parse_int<std::uint64_t>("a non-negative integer"); }
  /// The next argument as a finite double.
  double real() {
    const std::string v = text();
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(x)) bad(name_ + ": \"" + v + "\" is not a finite number");
    return x;
  }
  /// One of the listed words.
  std::string choice(std::initializer_list<std::string_view> words) {
    const std::string v = text();
    std::string known;
    for (auto w : words) {
      if (v == w) return v;
      known += (known.empty() ? "" : ", ") + std::string(w);
    }
    bad(name_ + ": \"" + v + "\" is not one of " + known);
    return v;
  }
  /// An option no example knows.
  [[noreturn]] void unknown() { bad("unknown option " + name_); }

 private:
  template <class I>
  I parse_int(const char* what) {
    const std::string v = text();
    I x{};
    const auto r = std::from_chars(v.data(), v.data() + v.size(), x);
    if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size())
      bad(name_ + ": \"" + v + "\" is not " + what);
    return x;
  }
  [[noreturn]] void bad(const std::string& message) {
    std::fprintf(stderr, "%s\n", message.c_str());
    usage_(2);
    std::exit(2);  // usage exits; this keeps [[noreturn]] true whatever it does
  }

  int argc_;
  char** argv_;
  usage_fn usage_;
  int i_ = 0;
  std::string name_;
};

}  // namespace ctformer::cli
