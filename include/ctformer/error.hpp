// The one exception type ctformer throws for bad input (corrupt files, shape mismatches in files,
// invalid UTF-8, empty data, NaN losses). Messages say what was expected, what was found and
// where (file, line, byte offset or tensor name). Programming errors that can be caught at
// compile time are static_asserts instead.
// Where exceptions are off (firmware), fail() formats the message into a fixed buffer and calls
// the handler set with set_fail_handler(); the default one writes it through the report hook
// (set_fail_report, default: fputs to stderr) and aborts. A handler must not return. That path
// formats with a compact formatter of its own (each {} or {:spec} takes the next argument:
// integers, floating point with 6 significant decimals, text, booleans; specs are ignored), so
// a firmware does not link fmt's formatting code (about 50 KB of flash). The format strings are
// still checked at compile time by fmt.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "base/platform.hpp"

namespace ctformer {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using fail_report_fn = void (*)(const char* message);
using fail_handler_fn = void (*)(const char* message);

namespace detail {
inline void default_fail_report(const char* message) {
  std::fputs("ctformer: ", stderr);
  std::fputs(message, stderr);
  std::fputs("\n", stderr);
}
inline fail_report_fn& fail_report_hook() noexcept {
  static fail_report_fn f = &default_fail_report;
  return f;
}
inline void default_fail_handler(const char* message) {
  fail_report_hook()(message);
  std::abort();
}
inline fail_handler_fn& fail_handler_hook() noexcept {
  static fail_handler_fn f = &default_fail_handler;
  return f;
}
}  // namespace detail

/// Only consulted where exceptions are off. Both return the previous function; null restores the default.
inline fail_report_fn set_fail_report(fail_report_fn f) noexcept {
  return std::exchange(detail::fail_report_hook(), f ? f : &detail::default_fail_report);
}
inline fail_handler_fn set_fail_handler(fail_handler_fn f) noexcept {
  return std::exchange(detail::fail_handler_hook(), f ? f : &detail::default_fail_handler);
}

namespace detail {

/// Appends to a fixed buffer, dropping what does not fit.
struct message_buffer {
  char* p;
  std::size_t n, at = 0;
  void put(char c) noexcept {
    if (at + 1 < n) p[at++] = c;
  }
  void put(const char* s, std::size_t len) noexcept {
    for (std::size_t i = 0; i < len; ++i) put(s[i]);
  }
  void put_uint(unsigned long long v) noexcept {
    char d[24];
    int k = 0;
    do d[k++] = char('0' + v % 10); while ((v /= 10) != 0);
    while (k > 0) put(d[--k]);
  }
  void put_double(double v) noexcept {
    if (v != v) return put("nan", 3);
    if (v < 0) put('-'), v = -v;
    if (v > 1e18) return put("inf-or-huge", 11);
    const auto whole = static_cast<unsigned long long>(v);
    put_uint(whole);
    auto frac = static_cast<unsigned long long>((v - double(whole)) * 1e6 + 0.5);
    if (frac == 0) return;
    char d[6];
    for (int i = 5; i >= 0; --i, frac /= 10) d[i] = char('0' + frac % 10);
    int len = 6;
    while (len > 0 && d[len - 1] == '0') --len;
    put('.');
    put(d, std::size_t(len));
  }
  template <class A>
  void put_arg(const A& a) noexcept {
    using D = std::remove_cvref_t<A>;
    if constexpr (std::is_same_v<D, bool>) {
      a ? put("true", 4) : put("false", 5);
    } else if constexpr (std::is_same_v<D, char>) {
      put(a);
    } else if constexpr (std::is_enum_v<D>) {
      put_arg(static_cast<long long>(a));
    } else if constexpr (std::is_integral_v<D> && std::is_signed_v<D>) {
      if (a < 0) put('-'), put_uint(0ull - static_cast<unsigned long long>(a));
      else put_uint(static_cast<unsigned long long>(a));
    } else if constexpr (std::is_integral_v<D>) {
      put_uint(static_cast<unsigned long long>(a));
    } else if constexpr (std::is_convertible_v<const D&, std::string_view>) {
      const std::string_view v = a;
      put(v.data(), v.size());
    } else if constexpr (std::is_convertible_v<const D&, double>) {
      put_double(static_cast<double>(a));
    } else {
      put('?');
    }
  }
};

template <class... Args>
void compact_format(char* buf, std::size_t n, std::string_view f, const Args&... args) noexcept {
  message_buffer out{buf, n};
  std::size_t i = 0;
  const auto next_field = [&] {  ///< copies text up to the next field and skips it; false at the end
    while (i < f.size()) {
      const char c = f[i++];
      if ((c == '{' || c == '}') && i < f.size() && f[i] == c) {
        out.put(c);
        ++i;
      } else if (c == '{') {
        while (i < f.size() && f[i++] != '}') {
        }
        return true;
      } else {
        out.put(c);
      }
    }
    return false;
  };
  ((next_field() ? out.put_arg(args) : void()), ...);
  while (next_field()) out.put('?');
  buf[out.at] = '\0';
}

}  // namespace detail

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
#if defined(CTFORMER_NO_EXCEPTIONS)
  char buf[256];
  const fmt::string_view text = f;
  detail::compact_format(buf, sizeof buf, std::string_view(text.data(), text.size()), args...);
  detail::fail_handler_hook()(buf);
  std::abort();  // a handler that returns still stops here
#else
  throw error(fmt::format(f, std::forward<Args>(args)...));
#endif
}

}  // namespace ctformer
