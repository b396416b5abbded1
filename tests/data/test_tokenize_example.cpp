// examples/tokenize end to end: JSON lines in, JSON lines of ids out, in order, equal to the
// recorded GPT-2 and BERT ids and to spm_encode's ids (--gpt2, --bert-vocab, --spm).
#include <catch2/catch.hpp>

#include <ctformer/io/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/test_support.hpp"

#ifdef CTFORMER_TOKENIZE_EXE

namespace {

std::vector<std::string> run_tokenize(const std::string& args, const std::string& input_path) {
  const std::string cmd = std::string(CTFORMER_TOKENIZE_EXE) + " " + args + " < " + input_path;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::vector<std::string> lines;
  std::string cur;
  int c;
  while ((c = std::fgetc(p)) != EOF) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(char(c));
    }
  }
  REQUIRE(pclose(p) == 0);
  return lines;
}

std::vector<long long> ids_of(const ctformer::json::value& v, const char* key) {
  std::vector<long long> ids;
  for (const auto& x : v.at(key).as_array()) ids.push_back(x.as_int());
  return ids;
}

void check_fixture(const std::string& args, const std::filesystem::path& fixture, const char* key) {
  const auto out = run_tokenize(args, fixture.string());
  std::ifstream in(fixture);
  std::string line;
  std::size_t i = 0;
  while (std::getline(in, line)) {
    REQUIRE(i < out.size());
    const auto want = ids_of(ctformer::json::value::parse(line), key);
    const auto got = ids_of(ctformer::json::value::parse(out[i]), "ids");
    INFO("line " << i + 1 << ": " << line);
    REQUIRE(got == want);
    ++i;
  }
  CHECK(i == out.size());
  CHECK(i == 315);
}

}  // namespace

TEST_CASE("tokenize --gpt2 gives GPT-2's ids for every fixture line", "[data]") {
  CTFORMER_REQUIRE_DATA(fixture, "gpt2-bpe/parity_public.jsonl");
  check_fixture("--gpt2 " + (ctformer::testing::data_dir() / "gpt2-bpe").string(), fixture, "ids");
}

TEST_CASE("tokenize --bert-vocab --specials gives BERT's ids with [CLS] and [SEP]", "[data]") {
  CTFORMER_REQUIRE_DATA(fixture, "bert-wordpiece/parity_public.jsonl");
  check_fixture("--specials --bert-vocab " + (ctformer::testing::data_dir() / "bert-wordpiece/vocab.txt").string(),
                fixture, "ids_with_special");
}

TEST_CASE("tokenize --spm gives spm_encode's ids", "[data]") {
  const std::string fx = std::string(CTFORMER_TEST_SOURCE_DIR) + "/spm/fixtures/";
  // Each input line as a JSON string, then compare with spm_encode's recorded ids.
  std::ifstream text(fx + "text_edge.txt");
  const auto jsonl = ctformer::testing::temp_path("tokenize_spm.jsonl").string();
  std::ofstream out(jsonl);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(text, l)) {
    std::string quoted;
    ctformer::json::write_string(quoted, l);
    out << "{\"text\": " << quoted << "}\n";
    lines.push_back(l);
  }
  out.close();
  const auto got = run_tokenize("--spm " + fx + "shakespeare_unigram1000_nmt_nfkc.model", jsonl);
  std::ifstream ids(fx + "shakespeare_unigram1000_nmt_nfkc.edge.ids");
  std::size_t i = 0;
  while (std::getline(ids, l) && i < got.size()) {
    std::vector<long long> want;
    std::size_t pos = 0;
    while (pos < l.size()) {
      const auto sp = l.find(' ', pos);
      want.push_back(std::stoll(l.substr(pos, sp - pos)));
      if (sp == std::string::npos) break;
      pos = sp + 1;
    }
    INFO("line " << i + 1);
    CHECK(ids_of(ctformer::json::value::parse(got[i]), "ids") == want);
    ++i;
  }
  CHECK(i == lines.size());
  std::remove(jsonl.c_str());
}

#endif
