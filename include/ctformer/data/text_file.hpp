// Reading whole text files and walking their lines with 1-based line numbers, so that every
// loader reports errors as "file:line". A missing file and an empty file are errors.
// Lines end at '\n'; a trailing '\r' (CRLF files) is dropped; a final newline adds no line.
#pragma once

#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "../error.hpp"

namespace ctformer {

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open file '{}'", path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail("error while reading '{}'", path);
  if (s.empty()) fail("'{}' is an empty file", path);
  return s;
}

/// Calls f(line_number, line) for each line of text.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(++line_no, line);
    pos = end + 1;
  }
}

}  // namespace ctformer
