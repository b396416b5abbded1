// Helpers for the SentencePiece tests: fixture paths, line splitting as spm_encode reads lines,
// id lists, and running the sentencepiece command-line tools when they are installed.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace ctformer::testing {

inline std::filesystem::path spm_fixture(const std::string& name) {
  return std::filesystem::path(CTFORMER_TEST_SOURCE_DIR) / "spm" / "fixtures" / name;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) FAIL("cannot open " << p.string());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::filesystem::path& p, std::string_view s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), std::streamsize(s.size()));
}

// Lines as std::getline gives them (what spm_encode reads): split on '\n', no final empty line.
inline std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) nl = s.size();
    out.emplace_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

inline std::vector<std::int32_t> parse_ids(std::string_view line) {
  std::vector<std::int32_t> ids;
  std::istringstream in{std::string(line)};
  long v;
  while (in >> v) ids.push_back(std::int32_t(v));
  return ids;
}

inline std::string join_ids(const std::vector<std::int32_t>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ' ';
    s += std::to_string(ids[i]);
  }
  return s;
}

// True when an executable of that name is on PATH.
inline bool have_tool(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string_view rest(path);
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    if (!dir.empty() && ::access((std::filesystem::path(dir) / name).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

// Runs a shell command; fails the test when it does not exit with status 0.
inline void run_command(const std::string& cmd) {
  INFO("command: " << cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(CTFORMER_TEST_BINARY_DIR) / "spm_scratch" / name;
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::vector<std::string> spm_fixture_models() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(spm_fixture("")))
    if (e.path().extension() == ".model") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace ctformer::testing
