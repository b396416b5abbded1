// Shared by the fuzz harnesses (one reader each): run one input, accept ctformer::error as a clean
// rejection, and abort on any other escaping exception so that libFuzzer, or replay_main.cpp when
// libFuzzer is absent, reports it together with the input. Checks of results abort the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#include <ctformer/error.hpp>

namespace ctformer::fuzz {

template <class F>
int run(F&& body) {
  try {
    body();
  } catch (const ctformer::error&) {
    // A clean rejection of bad input.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctformer fuzz: an exception other than ctformer::error escaped: %s: %s\n",
                 typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "ctformer fuzz: a non-std exception escaped\n");
    std::abort();
  }
  return 0;
}

// A property of a result that must hold; aborts with the message otherwise.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "ctformer fuzz: check failed: %s\n", what);
    std::abort();
  }
}

// Inputs that carry two files or a file and a text separate them with this line; without it
// the whole input is the first part.
inline constexpr std::string_view separator = "\n=====\n";
inline std::pair<std::string_view, std::string_view> split2(std::string_view s) {
  const std::size_t at = s.find(separator);
  if (at == std::string_view::npos) return {s, {}};
  return {s.substr(0, at), s.substr(at + separator.size())};
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ctformer::fuzz
