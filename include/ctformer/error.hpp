// The one exception type ctformer throws for bad input (corrupt files, shape mismatches in files,
// invalid UTF-8, empty data, NaN losses). Messages say what was expected, what was found and
// where (file, line, byte offset or tensor name). Programming errors that can be caught at
// compile time are static_asserts instead.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace ctformer {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw error(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace ctformer
