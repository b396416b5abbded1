// The one exception type ctformer throws for bad input (corrupt files, shape mismatches in files,
// invalid UTF-8, empty data, NaN losses). Messages say what was expected, what was found and
// where (file, line, byte offset or tensor name). Programming errors that can be caught at
// compile time are static_asserts instead.
// Where exceptions are off (firmware), fail() formats the message into a fixed buffer and calls
// the handler set with set_fail_handler(); the default one writes it through the report hook
// (set_fail_report, default: fputs to stderr) and aborts. A handler must not return.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
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

// Only consulted where exceptions are off. Both return the previous function; null restores the default.
inline fail_report_fn set_fail_report(fail_report_fn f) noexcept {
  return std::exchange(detail::fail_report_hook(), f ? f : &detail::default_fail_report);
}
inline fail_handler_fn set_fail_handler(fail_handler_fn f) noexcept {
  return std::exchange(detail::fail_handler_hook(), f ? f : &detail::default_fail_handler);
}

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
#if defined(CTFORMER_NO_EXCEPTIONS)
  char buf[256];
  const auto r = fmt::format_to_n(buf, sizeof buf - 1, f, std::forward<Args>(args)...);
  buf[r.size < sizeof buf - 1 ? r.size : sizeof buf - 1] = '\0';
  detail::fail_handler_hook()(buf);
  std::abort();  // a handler that returns still stops here
#else
  throw error(fmt::format(f, std::forward<Args>(args)...));
#endif
}

}  // namespace ctformer
