// Helpers for the data tests: JSON-lines fixtures, id-list formatting and temporary files.
#pragma once

#include <ctformer/data/text_file.hpp>
#include <ctformer/io/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ctformer::testing {

inline std::vector<json::value> read_jsonl(const std::filesystem::path& path) {
  std::vector<json::value> rows;
  const std::string text = read_text_file(path.string());
  for_each_line(text, [&](std::size_t, std::string_view line) {
    if (!line.empty()) rows.push_back(json::parse(line));
  });
  return rows;
}

inline std::vector<std::int32_t> ints(const json::value& a) {
  std::vector<std::int32_t> out;
  for (const auto& v : a.as_array()) out.push_back(std::int32_t(v.as_int()));
  return out;
}

// A file under the test binary folder with the given contents; returns its path.
inline std::string temp_file(const std::string& name, const std::string& contents) {
  const auto dir = std::filesystem::path(CTFORMER_TEST_BINARY_DIR) / "data_tmp";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p, std::ios::binary) << contents;
  return p.string();
}

}  // namespace ctformer::testing
