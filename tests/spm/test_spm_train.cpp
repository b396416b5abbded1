// The Unigram trainer: models trained by ctformer segment as compactly as spm_train's at the same
// vocabulary size, round-trip every line, are deterministic, and load in Debian's spm_encode, which
// then encodes every test line exactly as ctformer does.
#include <ctformer/data/tokenizers/sentencepiece_trainer.hpp>

#include "spm_test_util.hpp"
#include "support/test_support.hpp"

#include <chrono>
#include <cstdio>
#include <set>

using namespace ctformer;
using namespace ctformer::testing;
using Catch::Contains;

namespace {

std::vector<std::string> french_lines(const std::filesystem::path& tsv) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(read_bytes(tsv))) out.push_back(line.substr(line.find('\t') + 1));
  return out;
}

// French sentences of the 5k file that the 20k training file does not contain (1,528).
std::vector<std::string> french_heldout(const std::filesystem::path& fr20, const std::filesystem::path& fr5) {
  const auto seen = french_lines(fr20);
  const std::set<std::string> known(seen.begin(), seen.end());
  std::vector<std::string> out;
  for (const auto& line : split_lines(read_bytes(fr5))) {
    const std::size_t a = line.find('\t'), b = line.find('\t', a + 1);
    const std::string fr = line.substr(a + 1, b - a - 1);
    if (!known.count(fr)) out.push_back(fr);
  }
  return out;
}

std::size_t count_tokens(const sentencepiece_tokenizer& tok, const std::vector<std::string>& lines) {
  std::size_t n = 0;
  for (const auto& l : lines) n += tok.encode(l).size();
  return n;
}

struct trained {
  spm::model_proto model;
  double seconds;
};

trained train(const std::vector<std::string>& lines, spm::unigram_trainer_options o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto m = spm::train_unigram(lines, o);
  return {std::move(m), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

// Trains like spm_train did for the fixture, compares tokens over the corpus, checks round trips.
void compare_with_spm_train(const std::string& fixture, const std::vector<std::string>& lines, std::int32_t vocab,
                            const std::string& norm, bool hard_limit, double max_ratio,
                            const std::vector<std::string>& heldout = {}) {
  spm::unigram_trainer_options o;
  o.vocab_size = vocab;
  o.normalization = norm;
  o.hard_vocab_limit = hard_limit;
  const auto [model, seconds] = train(lines, o);
  const sentencepiece_tokenizer ours(model);
  const auto theirs = sentencepiece_tokenizer::load(spm_fixture(fixture + ".model"));
  const std::size_t n_ours = count_tokens(ours, lines), n_theirs = count_tokens(theirs, lines);
  std::size_t bytes = 0;
  for (const auto& l : lines) bytes += l.size();
  std::printf("spm train: %-34s vocab %5zu (spm_train %5zu)  tokens %7zu vs spm_train %7zu  ratio %.4f  "
              "bytes/token %.3f vs %.3f  (%.1f s)\n",
              fixture.c_str(), ours.vocab_size(), theirs.vocab_size(), n_ours, n_theirs, double(n_ours) / double(n_theirs),
              double(bytes) / double(n_ours), double(bytes) / double(n_theirs), seconds);
  if (hard_limit) CHECK(ours.vocab_size() == std::size_t(vocab));
  CHECK(double(n_ours) <= max_ratio * double(n_theirs));
  if (!heldout.empty()) {
    const std::size_t h_ours = count_tokens(ours, heldout), h_theirs = count_tokens(theirs, heldout);
    std::printf("spm train: %-34s held-out %zu lines: tokens %6zu vs spm_train %6zu  ratio %.4f\n", fixture.c_str(),
                heldout.size(), h_ours, h_theirs, double(h_ours) / double(h_theirs));
    CHECK(double(h_ours) <= max_ratio * double(h_theirs));
  }
  // Every line decodes back to its normalized form, as with spm_train's model.
  std::size_t same = 0;
  for (const auto& l : lines) same += ours.decode(ours.encode(l)) == theirs.decode(theirs.encode(l));
  CHECK(same == lines.size());
}

}  // namespace

TEST_CASE("spm train: tinyshakespeare, 1000 pieces, against spm_train", "[data]") {
  CTFORMER_REQUIRE_DATA(path, "tinyshakespeare/input.txt");
  const auto lines = split_lines(read_bytes(path));
  compare_with_spm_train("shakespeare_unigram1000_nmt_nfkc", lines, 1000, "nmt_nfkc", true, 1.02);
}

TEST_CASE("spm train: French, 1000 pieces, identity, against spm_train", "[data]") {
  CTFORMER_REQUIRE_DATA(path, "translation/eng-fra.20k.tsv");
  CTFORMER_REQUIRE_DATA(path5k, "translation/eng-fra.attributed.5k.tsv");
  compare_with_spm_train("french_unigram1000_identity", french_lines(path), 1000, "identity", true, 1.02,
                         french_heldout(path, path5k));
}

TEST_CASE("spm train: 8000 pieces on both corpora, against spm_train", "[data]") {
  CTFORMER_REQUIRE_DATA(sh, "tinyshakespeare/input.txt");
  CTFORMER_REQUIRE_DATA(fr, "translation/eng-fra.20k.tsv");
  CTFORMER_REQUIRE_DATA(fr5k, "translation/eng-fra.attributed.5k.tsv");
  compare_with_spm_train("shakespeare_unigram8000_nmt_nfkc", split_lines(read_bytes(sh)), 8000, "nmt_nfkc", true, 1.02);
  // spm_train gives the French side 5,474 pieces when asked for 8000 (a soft limit): compare at
  // that size.
  const auto theirs = sentencepiece_tokenizer::load(spm_fixture("french_unigram8000_nmt_nfkc.model"));
  REQUIRE(theirs.vocab_size() == 5474);
  compare_with_spm_train("french_unigram8000_nmt_nfkc", french_lines(fr), 5474, "nmt_nfkc", true, 1.02,
                         french_heldout(fr, fr5k));
}

TEST_CASE("spm train: deterministic, and options reach the model", "[data]") {
  CTFORMER_REQUIRE_DATA(path, "tinyshakespeare/input.txt");
  auto lines = split_lines(read_bytes(path));
  lines.resize(4000);
  spm::unigram_trainer_options o;
  o.vocab_size = 600;
  o.byte_fallback = true;
  o.user_defined_symbols = {"<mask>"};
  o.control_symbols = {"<cls>"};
  o.pad_id = 3;
  const auto a = spm::train_unigram(lines, o), b = spm::train_unigram(lines, o);
  CHECK(spm::serialize_model(a) == spm::serialize_model(b));
  const sentencepiece_tokenizer tok(a);
  CHECK(tok.vocab_size() == 600);
  CHECK(tok.specials().pad == 3);
  CHECK(tok.specials().mask == *tok.token_to_id("<mask>"));
  CHECK(tok.specials().cls == *tok.token_to_id("<cls>"));
  CHECK(tok.token_to_id("<0xFF>").has_value());
  // Unknown characters fall back to bytes and decode back.
  CHECK(tok.decode(tok.encode("Ünïcödé <mask> ☃")) == "Ünïcödé <mask> ☃");
}

TEST_CASE("spm train: bad options and corpora fail clearly", "[data]") {
  spm::unigram_trainer_options o;
  o.vocab_size = 100;
  CHECK_THROWS_WITH(spm::train_unigram(std::vector<std::string>{}, o), Contains("the corpus is empty"));
  CHECK_THROWS_WITH(spm::train_unigram(std::vector<std::string>{"   ", ""}, o), Contains("the corpus is empty"));
  o.vocab_size = 5;
  CHECK_THROWS_WITH(spm::train_unigram(std::vector<std::string>{"abcdefgh"}, o), Contains("vocab_size 5 is too small"));
  o.vocab_size = 500;
  CHECK_THROWS_WITH(spm::train_unigram(std::vector<std::string>{"abc abd", "abc"}, o),
                    Contains("the corpus yields at most") && Contains("fewer than vocab_size 500"));
  o.normalization = "nfc";
  CHECK_THROWS_WITH(spm::train_unigram(std::vector<std::string>{"abc"}, o), Contains("normalization must be"));
  CHECK_THROWS_WITH(spm::train_unigram(std::filesystem::path("/nonexistent/corpus.txt"), {}), Contains("cannot open corpus"));
}

TEST_CASE("spm train: a ctformer model loads in spm_encode and encodes identically", "[parity][data]") {
  CTFORMER_REQUIRE_DATA(sh, "tinyshakespeare/input.txt");
  CTFORMER_REQUIRE_DATA(fr, "translation/eng-fra.20k.tsv");
  if (!have_tool("spm_encode")) {
    WARN("SKIPPED: spm_encode not found on PATH (Debian package sentencepiece); cannot check that it loads "
         "ctformer's models");
    return;
  }
  const auto dir = scratch_dir("interop");
  struct job {
    std::string name;
    std::vector<std::string> corpus;
    std::string norm, text;
    bool bytes;
  };
  const std::vector<job> jobs{{"shakespeare_nmt_nfkc", split_lines(read_bytes(sh)), "nmt_nfkc", "shakespeare", false},
                              {"french_identity_bytes", french_lines(fr), "identity", "french", true},
                              {"french_nmt_nfkc", french_lines(fr), "nmt_nfkc", "french", false}};
  std::size_t total = 0, equal = 0;
  for (const auto& j : jobs) {
    spm::unigram_trainer_options o;
    o.vocab_size = 1000;
    o.normalization = j.norm;
    o.byte_fallback = j.bytes;
    const sentencepiece_tokenizer trained(spm::train_unigram(j.corpus, o));
    const auto model_path = dir / (j.name + ".model");
    trained.save(model_path);
    const auto loaded = sentencepiece_tokenizer::load(model_path);
    for (const std::string& text : {j.text, std::string("edge")}) {
      const auto input = spm_fixture("text_" + text + ".txt");
      const auto out = dir / (j.name + "." + text + ".ids");
      run_command("spm_encode --model='" + model_path.string() + "' --output_format=id < '" + input.string() + "' > '" +
                  out.string() + "'");
      const auto lines = split_lines(read_bytes(input));
      const auto expected = split_lines(read_bytes(out));
      REQUIRE(expected.size() == lines.size());
      std::size_t ok = 0;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto ids = loaded.encode(lines[i]);
        CHECK(ids == trained.encode(lines[i]));
        if (join_ids(ids) == expected[i]) ++ok;
        else UNSCOPED_INFO(j.name << " line " << i << ": spm_encode [" << expected[i] << "] ctformer [" << join_ids(ids) << "]");
      }
      std::printf("spm interop: ctformer-trained %-22s %-11s %4zu / %4zu lines: spm_encode ids equal ctformer's\n",
                  j.name.c_str(), text.c_str(), ok, lines.size());
      CHECK(ok == lines.size());
      total += lines.size();
      equal += ok;
    }
  }
  std::printf("spm interop: %zu / %zu lines equal\n", equal, total);
}
