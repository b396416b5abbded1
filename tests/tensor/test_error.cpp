// fail()'s message where exceptions are off (firmware): the compact formatter gives fmt's text for
// the argument kinds the library's messages use, and never writes past its buffer.
#include <catch2/catch.hpp>

#include <ctformer/config.hpp>
#include <ctformer/error.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

using namespace ctformer;

namespace {

template <class... Args>
std::string compact(std::string_view f, const Args&... args) {
  char buf[256];
  detail::compact_format(buf, sizeof buf, f, args...);
  return buf;
}

enum class colour : unsigned char { red, green };

}  // namespace

TEST_CASE("the compact formatter matches fmt on the library's kinds of arguments", "[error]") {
  const std::string name = "h.0.attn.c_attn.weight";
  const char* file = "model.safetensors";
  const std::int32_t id = -7;
  const std::size_t n = 18446744073709551615ull;
  CHECK(compact("token id {} at position {} is outside the vocabulary (size {})", id, std::size_t(3), 62) ==
        fmt::format("token id {} at position {} is outside the vocabulary (size {})", id, std::size_t(3), 62));
  CHECK(compact("'{}': tensor '{}' has {} elements", file, name, n) ==
        fmt::format("'{}': tensor '{}' has {} elements", file, name, n));
  CHECK(compact("{} {} {}", std::string_view("view"), true, 'c') == fmt::format("{} {} {}", "view", true, 'c'));
  CHECK(compact("{{literal}} {}", 5) == "{literal} 5");
  CHECK(compact("min {}", INT64_MIN) == fmt::format("min {}", INT64_MIN));
  // Floating point: up to six decimals, trailing zeros dropped; specs are ignored.
  CHECK(compact("lr {} eps {:.3f}", 0.25, 1.5f) == "lr 0.25 eps 1.5");
  CHECK(compact("{}", real(0.125f)) == "0.125");
  CHECK(compact("{} {}", -2.0, 1e30) == "-2 inf-or-huge");
  CHECK(compact("enum {}", colour::green) == "enum 1");
  // A field without an argument prints '?'; extra arguments are dropped.
  CHECK(compact("a {} b {}", 1) == "a 1 b ?");
  CHECK(compact("a", 1, 2) == "a");
}

TEST_CASE("the compact formatter truncates at its buffer", "[error]") {
  char buf[8];
  std::memset(buf, 'x', sizeof buf);
  detail::compact_format(buf, sizeof buf, "0123456789{}", 42);
  CHECK(std::string(buf) == "0123456");
}
