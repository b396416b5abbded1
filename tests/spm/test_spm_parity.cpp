// Parity with Debian's sentencepiece 0.1.97: every line of the recorded spm_encode / spm_decode
// outputs (tests/spm/fixtures, made by tests/reference/spm_fixtures.sh) must be reproduced
// exactly, and, when spm_encode is installed, every line of the whole training corpora too.
#include <ctformer/data/tokenizers/sentencepiece.hpp>

#include "spm_test_util.hpp"
#include "support/test_support.hpp"

#include <cstdio>
#include <map>
#include <random>

using namespace ctformer;
using namespace ctformer::testing;

namespace {

std::string corpus_of(const std::string& model) { return model.substr(0, model.find('_')); }

// Compares line by line; reports the first mismatches and returns the number of equal lines.
template <class F>
std::size_t compare_lines(const std::string& what, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& expected, F&& actual) {
  REQUIRE(inputs.size() == expected.size());
  std::size_t equal = 0, shown = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string got = actual(inputs[i]);
    if (got == expected[i]) {
      ++equal;
    } else if (shown++ < 3) {
      UNSCOPED_INFO(what << " line " << i << ": input [" << inputs[i] << "]\n  expected [" << expected[i]
                         << "]\n  got      [" << got << "]");
    }
  }
  return equal;
}

}  // namespace

TEST_CASE("spm: encode equals spm_encode on every fixture line", "[parity][data]") {
  std::size_t total = 0, equal = 0;
  for (const auto& name : spm_fixture_models()) {
    const auto tok = sentencepiece_tokenizer::load(spm_fixture(name + ".model"));
    for (const auto& text : {corpus_of(name), std::string("edge")}) {
      const auto inputs = split_lines(read_bytes(spm_fixture("text_" + text + ".txt")));
      const auto expected = split_lines(read_bytes(spm_fixture(name + "." + text + ".ids")));
      const std::size_t ok = compare_lines(name + "." + text, inputs, expected,
                                           [&](const std::string& line) { return join_ids(tok.encode(line)); });
      std::printf("spm parity: %-36s %-11s %4zu / %4zu lines equal to spm_encode\n", name.c_str(), text.c_str(), ok,
                  inputs.size());
      CHECK(ok == inputs.size());
      total += inputs.size();
      equal += ok;
    }
  }
  std::printf("spm parity: %zu / %zu fixture lines equal to spm_encode --output_format=id\n", equal, total);
  CHECK(total > 8000);
}

TEST_CASE("spm: decode equals spm_decode on recorded and random ids", "[parity][data]") {
  std::size_t total = 0, equal = 0;
  for (const auto& name : spm_fixture_models()) {
    const auto tok = sentencepiece_tokenizer::load(spm_fixture(name + ".model"));
    for (const auto& text : {corpus_of(name), std::string("edge"), std::string("random")}) {
      const auto ids = split_lines(read_bytes(spm_fixture(name + "." + text + ".ids")));
      const auto expected = split_lines(read_bytes(spm_fixture(name + "." + text + ".decoded")));
      const std::size_t ok = compare_lines(name + "." + text + " decode", ids, expected,
                                           [&](const std::string& line) { return tok.decode(parse_ids(line)); });
      CHECK(ok == ids.size());
      total += ids.size();
      equal += ok;
    }
  }
  std::printf("spm parity: %zu / %zu lines decode equal to spm_decode --input_format=id\n", equal, total);
}

TEST_CASE("spm: n-best lists equal spm_encode --output_format=nbest_id", "[parity][data]") {
  std::size_t lists = 0, equal = 0;
  for (const auto& name : spm_fixture_models()) {
    if (name.find("_unigram") == std::string::npos) continue;
    const auto tok = sentencepiece_tokenizer::load(spm_fixture(name + ".model"));
    for (const auto& text : {corpus_of(name), std::string("edge")}) {
      const auto inputs = split_lines(read_bytes(spm_fixture("text_" + text + ".txt")));
      const auto blocks = split_lines(read_bytes(spm_fixture(name + "." + text + ".nbest")));
      for (std::size_t i = 0; i < blocks.size();) {
        REQUIRE(blocks[i].rfind('#', 0) == 0);
        const std::size_t line = std::stoul(blocks[i].substr(1));
        std::vector<std::string> expected;
        for (++i; i < blocks.size() && blocks[i].rfind('#', 0) != 0; ++i) expected.push_back(blocks[i]);
        std::vector<std::string> got;
        for (const auto& ids : tok.nbest(inputs.at(line), 5)) got.push_back(join_ids(ids));
        ++lists;
        if (got == expected) {
          ++equal;
        } else {
          std::string g, e;
          for (auto& s : got) g += "\n    " + s;
          for (auto& s : expected) e += "\n    " + s;
          UNSCOPED_INFO(name << "." << text << " line " << line << " [" << inputs[line] << "]\n  expected" << e
                             << "\n  got" << g);
        }
      }
    }
  }
  std::printf("spm parity: %zu / %zu n-best lists (n = 5) equal to spm_encode\n", equal, lists);
  CHECK(equal == lists);
  CHECK(lists > 300);
}

#ifdef __GLIBCXX__
// spm_encode draws from one std::mt19937 seeded with --random_seed through
// std::discrete_distribution / std::uniform_real_distribution; with the same standard library the
// same seed gives the same draws, so sampling can be compared exactly too.
TEST_CASE("spm: sampling with a seed equals spm_encode --random_seed", "[parity][data]") {
  std::size_t total = 0, equal = 0;
  for (const auto& name : spm_fixture_models()) {
    const auto tok = sentencepiece_tokenizer::load(spm_fixture(name + ".model"));
    const bool unigram = name.find("_unigram") != std::string::npos;
    for (const auto& text : {corpus_of(name), std::string("edge")}) {
      auto inputs = split_lines(read_bytes(spm_fixture("text_" + text + ".txt")));
      if (inputs.size() > 100) inputs.resize(100);
      struct mode {
        const char* tag;
        int nbest;
        float alpha;
      };
      std::vector<mode> modes = unigram ? std::vector<mode>{{"sample", -1, 0.2f}, {"nbsample", 8, 0.5f}}
                                        : std::vector<mode>{{"sample", -1, 0.1f}};
      for (const auto& m : modes) {
        const auto expected = split_lines(read_bytes(spm_fixture(name + "." + text + "." + m.tag)));
        std::mt19937 rng(1234);
        const std::size_t ok = compare_lines(name + "." + text + "." + m.tag, inputs, expected, [&](const std::string& l) {
          return join_ids(tok.sample(l, rng, m.nbest, m.alpha));
        });
        CHECK(ok == inputs.size());
        total += inputs.size();
        equal += ok;
      }
    }
  }
  std::printf("spm parity: %zu / %zu sampled lines equal to spm_encode --output_format=sample_id --random_seed=1234\n",
              equal, total);
}
#endif

// The whole training corpora through the installed spm_encode (skipped when it is absent).
TEST_CASE("spm: encode equals the installed spm_encode on whole corpora", "[parity][data]") {
  if (!have_tool("spm_encode")) {
    WARN("SKIPPED: spm_encode not found on PATH (Debian package sentencepiece); fixture parity still ran");
    return;
  }
  CTFORMER_REQUIRE_DATA(shakespeare, "tinyshakespeare/input.txt");
  CTFORMER_REQUIRE_DATA(translation, "translation/eng-fra.20k.tsv");
  const auto dir = scratch_dir("corpora");
  std::string french;
  for (const auto& line : split_lines(read_bytes(translation))) french += line.substr(line.find('\t') + 1) + "\n";
  write_bytes(dir / "french.txt", french);
  const std::map<std::string, std::filesystem::path> corpora{{"shakespeare", shakespeare}, {"french", dir / "french.txt"}};
  std::size_t total = 0, equal = 0;
  for (const auto& name : spm_fixture_models()) {
    const auto& corpus = corpora.at(corpus_of(name));
    const auto out = dir / (name + ".ids");
    run_command("spm_encode --model='" + spm_fixture(name + ".model").string() + "' --output_format=id < '" +
                corpus.string() + "' > '" + out.string() + "'");
    const auto tok = sentencepiece_tokenizer::load(spm_fixture(name + ".model"));
    const auto inputs = split_lines(read_bytes(corpus));
    const auto expected = split_lines(read_bytes(out));
    const std::size_t ok = compare_lines(name + " whole corpus", inputs, expected,
                                         [&](const std::string& line) { return join_ids(tok.encode(line)); });
    CHECK(ok == inputs.size());
    total += inputs.size();
    equal += ok;
  }
  std::printf("spm parity: %zu / %zu corpus lines equal to the installed spm_encode\n", equal, total);
}
