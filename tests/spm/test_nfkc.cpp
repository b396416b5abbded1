// NFC / NFD / NFKC / NFKD from the generated tables against Unicode's own NormalizationTest.txt,
// the double-array trie builder against a plain map, and charsmaps: SentencePiece's own nmt_nfkc map
// decompiled and rebuilt, and the map built from this library's tables compared with it.
#include <ctformer/data/tokenizers/sentencepiece.hpp>
#include <ctformer/data/tokenizers/sentencepiece_nfkc.hpp>
#include <ctformer/data/unicode/nfkc.hpp>

#include "spm_test_util.hpp"

#include <cstdio>
#include <map>
#include <random>
#include <set>

using namespace ctformer;
using namespace ctformer::testing;
namespace nf = ctformer::unicode::normal_forms;

namespace {

std::u32string parse_cps(std::string_view field) {
  std::u32string out;
  std::istringstream in{std::string(field)};
  std::string hex;
  while (in >> hex) out.push_back(char32_t(std::stoul(hex, nullptr, 16)));
  return out;
}

}  // namespace

TEST_CASE("nfkc: tables state their Unicode version", "[data]") {
  CHECK(std::string(unicode::tables::normalization_version) == "15.0.0");
  CHECK(nf::combining_class(U'a') == 0);
  CHECK(nf::combining_class(0x0301) == 230);
  CHECK(nf::combining_class(0x0323) == 220);
  CHECK(nf::nfkc(std::string("\xEF\xAC\x81")) == "fi");                    // U+FB01 LATIN SMALL LIGATURE FI
  CHECK(nf::nfc(std::string("e\xCC\x81")) == "\xC3\xA9");                   // e + U+0301 -> é
  CHECK(nf::nfkc(std::string("\xE2\x91\xA0")) == "1");                      // ① -> 1
  CHECK(nf::nfd(U"\uAC01") == std::u32string{0x1100, 0x1161, 0x11A8});      // Hangul arithmetic
  CHECK(nf::nfc(std::u32string{0x1100, 0x1161, 0x11A8}) == U"\uAC01");
  CHECK(nf::nfd(U"\u1E0B\u0323") == std::u32string{U'd', 0x0323, 0x0307});  // reordered by class
}

TEST_CASE("nfkc: every line of NormalizationTest.txt", "[data]") {
  const char* path = "/usr/share/unicode/NormalizationTest.txt.bz2";
  if (!std::filesystem::exists(path) || !have_tool("bzcat")) {
    WARN("SKIPPED: " << path << " or bzcat not found (Debian packages unicode-data, bzip2)");
    return;
  }
  FILE* in = popen((std::string("bzcat ") + path).c_str(), "r");
  REQUIRE(in);
  std::string text;
  char buf[1 << 16];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;) text.append(buf, n);
  REQUIRE(pclose(in) == 0);
  REQUIRE(text.find("NormalizationTest-15.0.0.txt") != std::string::npos);
  std::size_t cases = 0, failures = 0;
  for (const auto& line : split_lines(text)) {
    if (line.empty() || line[0] == '#' || line[0] == '@') continue;
    std::vector<std::u32string> c;
    std::size_t start = 0;
    for (int k = 0; k < 5; ++k) {
      const std::size_t semi = line.find(';', start);
      c.push_back(parse_cps(std::string_view(line).substr(start, semi - start)));
      start = semi + 1;
    }
    ++cases;
    // The conformance relations of UAX #15, for all five columns.
    bool ok = true;
    for (int k = 0; k < 3; ++k) ok = ok && nf::nfc(c[k]) == c[1] && nf::nfd(c[k]) == c[2];
    for (int k = 3; k < 5; ++k) ok = ok && nf::nfc(c[k]) == c[3] && nf::nfd(c[k]) == c[4];
    for (int k = 0; k < 5; ++k) ok = ok && nf::nfkc(c[k]) == c[3] && nf::nfkd(c[k]) == c[4];
    if (!ok && failures++ < 5) UNSCOPED_INFO("NormalizationTest line fails: " << line);
  }
  std::printf("nfkc: %zu / %zu NormalizationTest-15.0.0 lines pass all relations\n", cases - failures, cases);
  CHECK(cases > 19000);
  CHECK(failures == 0);
}

TEST_CASE("nfkc: double-array builder against a map", "[data]") {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::map<std::string, std::uint32_t> ref;
    const int n = 1 + int(rng() % 400);
    for (int i = 0; i < n; ++i) {
      std::string k;
      const int len = 1 + int(rng() % 6);
      for (int j = 0; j < len; ++j) k.push_back(char(1 + rng() % (round % 2 ? 4 : 255)));
      ref[k] = rng() % 100000;
    }
    const std::vector<std::pair<std::string, std::uint32_t>> kv(ref.begin(), ref.end());
    const auto da = ctformer::detail::double_array::build(kv);
    CHECK(da.entries() == kv);
    for (const auto& [k, v] : kv) {
      CHECK(da.exact_match(k) == std::int32_t(v));
      std::vector<std::size_t> lens;
      da.common_prefix_search(k + "\x01\x02", [&](std::size_t len, std::uint32_t) { lens.push_back(len); });
      std::vector<std::size_t> want;
      for (std::size_t len = 1; len <= k.size() + 2; ++len)
        if (ref.count((k + "\x01\x02").substr(0, len))) want.push_back(len);
      CHECK(lens == want);
    }
    CHECK(da.exact_match("\xFF\xFF\xFF\xFF\xFF\xFF\xFF") == (ref.count("\xFF\xFF\xFF\xFF\xFF\xFF\xFF") ? 0 : -1) * 1);
  }
  CHECK_THROWS_WITH(ctformer::detail::double_array::build({{"b", 1}, {"a", 2}}), Catch::Contains("sorted"));
  CHECK_THROWS_WITH(ctformer::detail::double_array::build({{"", 1}}), Catch::Contains("non-empty"));
}

TEST_CASE("nfkc: SentencePiece's nmt_nfkc charsmap decompiles, rebuilds and matches the tables", "[data]") {
  const auto model = spm::load_model(spm_fixture("shakespeare_unigram1000_nmt_nfkc.model"));
  const auto original = spm::charsmap::parse(model.normalizer.precompiled_charsmap);
  const auto rules = original.rules();
  std::printf("nfkc: SentencePiece 0.1.97 nmt_nfkc charsmap: %zu rules in %zu bytes\n", rules.size(),
              model.normalizer.precompiled_charsmap.size());
  CHECK(rules.size() == 224725);

  // Rebuilt with this library's builder, the map normalizes every test text the same way.
  std::map<std::u32string, std::u32string> as_cps;
  for (const auto& [k, v] : rules) as_cps[utf8::decode(k)] = utf8::decode(v);
  const std::string rebuilt_blob = spm::charsmap::compile(as_cps);
  const auto rebuilt = spm::charsmap::parse(rebuilt_blob);
  CHECK(rebuilt.rules() == rules);
  std::printf("nfkc: rebuilt by ctformer: %zu bytes\n", rebuilt_blob.size());
  spm::normalizer a(model.normalizer, false), b;
  auto spec = model.normalizer;
  spec.precompiled_charsmap = rebuilt_blob;
  b = spm::normalizer(spec, false);
  for (const char* text : {"edge", "french", "shakespeare"})
    for (const auto& line : split_lines(read_bytes(spm_fixture(std::string("text_") + text + ".txt"))))
      CHECK(a.normalize(line) == b.normalize(line));

  // The map built from the Unicode 15.0 tables agrees with SentencePiece's (built by ICU from an
  // older Unicode) on single characters, apart from characters whose mapping changed since.
  const auto mine = spm::nmt_nfkc_rules();
  std::size_t single = 0, same = 0;
  for (const auto& [k, v] : as_cps) {
    if (k.size() != 1) continue;
    ++single;
    const auto it = mine.find(k);
    same += (it != mine.end() ? it->second : k) == v;
  }
  std::printf("nfkc: %zu / %zu single-character rules of SentencePiece's nmt_nfkc equal ctformer's\n", same, single);
  CHECK(same >= single - single / 100);
  const std::string blob = spm::nmt_nfkc_charsmap();
  std::printf("nfkc: ctformer's nmt_nfkc charsmap: %zu rules in %zu bytes\n", mine.size(), blob.size());
  const auto built = spm::charsmap::parse(blob);
  CHECK(built.rules().size() == mine.size());
  CHECK(blob.size() < 400000);
}
