// Locale-independent parsing of a whole field as a float or double, as std::from_chars does.
// libc++ before 17 has no floating-point std::from_chars; there strtod/strtof stand in, with the
// inputs from_chars would refuse (leading space or '+', hex) refused first.
#pragma once

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace ctformer::detail {

/// True when all of s is one number that fits in T; v is then that number.
template <class T>
  requires std::is_floating_point_v<T>
bool parse_real(std::string_view s, T& v) {
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
#else
  if (s.empty() || s.front() == '+' || s.find_first_of(" \t\n\v\f\rxX") != std::string_view::npos) return false;
  const std::string copy(s);
  char* end = nullptr;
  errno = 0;
  T x;
  if constexpr (std::is_same_v<T, float>) x = std::strtof(copy.c_str(), &end);
  else if constexpr (std::is_same_v<T, double>) x = std::strtod(copy.c_str(), &end);
  else x = std::strtold(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE) return false;
  v = x;
  return true;
#endif
}

}  // namespace ctformer::detail
