// BLEU against three references: (1) the fixtures of tests/reference/metrics_reference.py, whose
// port of sacreBLEU's semantics was itself checked against NLTK (stored as "nltk" where NLTK's
// definition coincides); (2) values published in sacreBLEU's own test suite; (3) a real corpus,
// the first 500 pairs of translation/eng-fra.20k.tsv with a fixed perturbation as hypotheses.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ctformer/metrics/bleu.hpp>

#include "support/test_support.hpp"
#include "fixtures.hpp"

namespace m = ctformer::metrics;
using namespace ctformer::testing;

namespace {

// Options by assignment: designated initializers that skip members draw GCC's
// -Wmissing-field-initializers under -Wextra.
m::bleu_options opts(m::bleu_smoothing s, std::optional<double> v = {}, bool eff = false,
                     m::bleu_tokenizer t = m::bleu_tokenizer::tok_13a) {
  m::bleu_options o;
  o.smoothing = s;
  o.smooth_value = v;
  o.effective_order = eff;
  o.tokenizer = t;
  return o;
}

m::bleu_options options_of(const ctformer::json::value& c) {
  m::bleu_options o;
  const std::string s = c.at("smooth").as_string();
  o.smoothing = s == "none" ? m::bleu_smoothing::none
              : s == "floor" ? m::bleu_smoothing::floor
              : s == "add-k" ? m::bleu_smoothing::add_k
                             : m::bleu_smoothing::exp;
  if (!c.at("smooth_value").is_null()) o.smooth_value = c.at("smooth_value").as_number();
  o.effective_order = c.at("effective_order").as_bool();
  o.tokenizer = c.at("tokenize").as_string() == "13a" ? m::bleu_tokenizer::tok_13a : m::bleu_tokenizer::none;
  o.max_order = std::size_t(c.at("max_order").as_int());
  return o;
}

void check_score(const m::bleu_score& got, const ctformer::json::value& e) {
  CHECK_NEAR(got.score, e.at("score").as_number());
  CHECK_NEAR(got.bp, e.at("bp").as_number());
  CHECK(near_all(got.precisions, doubles(e.at("precisions"))));
  CHECK(got.stats.hyp_len == std::uint64_t(e.at("sys_len").as_int()));
  CHECK(got.stats.ref_len == std::uint64_t(e.at("ref_len").as_int()));
  for (std::size_t n = 0; n < got.stats.correct.size(); ++n) {
    CHECK(got.stats.correct[n] == std::uint64_t(e.at("correct").at(n).as_int()));
    CHECK(got.stats.total[n] == std::uint64_t(e.at("total").at(n).as_int()));
  }
}

// The documented perturbation of the French side (tests/reference/metrics_reference.py).
std::string perturb(std::size_t i, const std::string& fr) {
  std::vector<std::string> w;
  std::size_t start = 0;
  for (;;) {
    const std::size_t sp = fr.find(' ', start);
    w.push_back(fr.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  switch (i % 5) {
    case 1: if (w.size() > 1) w.pop_back(); break;
    case 2: if (w.size() > 1) std::swap(w[0], w[1]); break;
    case 3: w.push_back(w.back()); break;
    case 4: if (w.size() > 1) w.insert(w.end() - 1, "tr\xC3\xA8s"); break;
    default: break;
  }
  std::string out;
  for (std::size_t k = 0; k < w.size(); ++k) out += (k ? " " : "") + w[k];
  return out;
}

}  // namespace

TEST_CASE("13a tokenization equals the regular-expression reference", "[metrics][parity]") {
  const auto fx = load_fixture("bleu.json");
  for (const auto& c : fx.at("tokenizer").as_array()) {
    INFO("text " << c.at("text").dump());
    CHECK(m::tokenize_13a(c.at("text").as_string()) == c.at("expected").as_string());
  }
  CHECK(m::tokenize_13a("It's 3.5 km (or 2,000 m)-long.") == "It's 3.5 km ( or 2,000 m ) -long .");
  CHECK_THROWS_WITH(m::tokenize_13a("bad \xC3"), Catch::Contains("invalid UTF-8 at byte 4"));
}

TEST_CASE("corpus and sentence BLEU match the sacreBLEU port and NLTK", "[metrics][parity]") {
  const auto fx = load_fixture("bleu.json");
  std::size_t with_nltk = 0;
  for (const auto& c : fx.at("bleu").as_array()) {
    const auto hyps = strings(c.at("hypotheses"));
    std::vector<std::vector<std::string>> refs;
    for (const auto& r : c.at("references").as_array()) refs.push_back(strings(r));
    const auto o = options_of(c);
    INFO("case " << c.dump());
    const m::bleu_score got = c.at("level").as_string() == "sentence" ? m::sentence_bleu(hyps[0], refs[0], o)
                                                                      : m::corpus_bleu(hyps, refs, o);
    check_score(got, c.at("expected"));
    if (!c.at("nltk").is_null()) {
      CHECK_NEAR(got.score, c.at("nltk").as_number());
      ++with_nltk;
    }
    // The streaming accumulator gives the corpus score.
    if (c.at("level").as_string() == "corpus") {
      m::bleu_metrics acc(o);
      for (std::size_t i = 0; i < hyps.size(); ++i) acc.add(hyps[i], refs[i]);
      CHECK_NEAR(acc.result().at("bleu"), c.at("expected").at("score").as_number());
    }
  }
  CHECK(fx.at("bleu").size() >= 200);
  CHECK(with_nltk >= 100);
}

// Values from sacreBLEU's own test suite (test/test_bleu.py, test/test_sentence_bleu.py), which
// ctformer reproduces without sacreBLEU installed.
TEST_CASE("BLEU reproduces sacreBLEU's published test values", "[metrics][parity]") {
  const std::vector<std::string> hyps = {"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."};
  const std::vector<std::vector<std::string>> refs = {{"The dog bit the man.", "The dog had bit the man."},
                                                      {"It was not unexpected.", "No one was surprised."},
                                                      {"The man bit him first.", "The man had bitten the dog."}};
  CHECK(std::abs(m::corpus_bleu(hyps, refs).score - 48.530827) < 1e-8);
  CHECK(std::abs(m::corpus_bleu(hyps, refs, opts(m::bleu_smoothing::none)).score - 48.530827) < 1e-8);
  CHECK(std::abs(m::corpus_bleu(hyps, refs, opts(m::bleu_smoothing::exp, {}, false, m::bleu_tokenizer::none)).score - 49.1919566) < 1e-8);
  const std::vector<std::string> empty = {"", "", ""};
  CHECK(m::corpus_bleu(empty, refs).score == 0.0);

  const std::string ref = "produc\xC5\xA3ia de zah\xC4\x83r brut se exprim\xC4\x83 \xC3\xAEn zah\xC4\x83r alb;";
  const std::string sys = "Produc\xC8\x9Bia de zah\xC4\x83r prim\xC4\x83 va fi exprimat\xC4\x83 \xC3\xAEn ceea ce "
                          "prive\xC8\x99te zah\xC4\x83rul alb;";
  const std::vector<std::string> r1 = {ref};
  struct row {
    m::bleu_smoothing s;
    std::optional<double> v;
    m::bleu_tokenizer t;
    double expected;
  };
  for (const row& x : {row{m::bleu_smoothing::exp, {}, m::bleu_tokenizer::tok_13a, 8.493},
                       row{m::bleu_smoothing::none, {}, m::bleu_tokenizer::tok_13a, 0.0},
                       row{m::bleu_smoothing::floor, {}, m::bleu_tokenizer::tok_13a, 4.51688},
                       row{m::bleu_smoothing::floor, 0.5, m::bleu_tokenizer::tok_13a, 10.10},
                       row{m::bleu_smoothing::add_k, {}, m::bleu_tokenizer::tok_13a, 14.882},
                       row{m::bleu_smoothing::add_k, 2.0, m::bleu_tokenizer::tok_13a, 21.389},
                       row{m::bleu_smoothing::exp, {}, m::bleu_tokenizer::none, 7.347}}) {
    CHECK(std::abs(m::sentence_bleu(sys, r1, opts(x.s, x.v, true, x.t)).score - x.expected) < 1e-3);
  }
  const std::vector<std::string> okay = {"okay thanks"};
  for (auto s : {m::bleu_smoothing::exp, m::bleu_smoothing::none, m::bleu_smoothing::floor, m::bleu_smoothing::add_k})
    CHECK(m::sentence_bleu("this is a cat", okay, opts(s, {}, true)).score == 0.0);

  m::bleu_stats st;
  st.hyp_len = st.ref_len = 11;
  st.correct = {9, 7, 5, 3};
  st.total = {10, 8, 6, 4};
  CHECK(std::abs(m::compute_bleu(st, opts(m::bleu_smoothing::none)).score / 100 - 0.8375922397) < 1e-8);

  const std::vector<std::string> sym = {"I am a symbol string sequence a a"};
  const m::bleu_options raw = opts(m::bleu_smoothing::floor, {}, true, m::bleu_tokenizer::none);
  const auto b = m::sentence_bleu("am I am a character sequence", sym, raw);
  CHECK(b.stats.correct == std::vector<std::uint64_t>{4, 2, 1, 0});
  CHECK(b.stats.total == std::vector<std::uint64_t>{6, 5, 4, 3});
  CHECK(std::abs(b.score / 100 - 0.1555722182) < 1e-8);
  m::bleu_options zero_floor = raw;
  zero_floor.smooth_value = 0.0;
  CHECK(m::sentence_bleu("am I am a character sequence", sym, zero_floor).score == 0.0);
  m::bleu_options floor01 = raw;
  floor01.smooth_value = 0.01;
  const std::vector<std::string> a_test = {"a test"};
  CHECK(std::abs(m::sentence_bleu("test", a_test, floor01).score / 100 - 0.3678794411714425) < 1e-8);
  CHECK(m::sentence_bleu("a test", a_test, floor01).score == Approx(100.0).epsilon(1e-15));
  CHECK(std::abs(m::sentence_bleu("a little test", a_test, floor01).score / 100 - 0.03218297948685433) < 1e-8);
}

TEST_CASE("BLEU edge cases: empty corpus, missing references, invalid text", "[metrics][edge]") {
  const std::vector<std::string> none;
  const std::vector<std::vector<std::string>> no_refs;
  CHECK_THROWS_WITH(m::corpus_bleu(none, no_refs), Catch::Contains("empty input"));
  const std::vector<std::string> one = {"a b c"};
  const std::vector<std::vector<std::string>> empty_refs = {{}};
  CHECK_THROWS_WITH(m::corpus_bleu(one, empty_refs), Catch::Contains("has no reference"));
  const std::vector<std::string> bad = {"x\xFFy"};
  CHECK_THROWS_WITH(m::sentence_bleu("x", bad), Catch::Contains("invalid UTF-8"));
  m::bleu_metrics acc;
  CHECK_THROWS_WITH(acc.result(), Catch::Contains("empty input"));
}

TEST_CASE("corpus BLEU on the first 500 eng-fra pairs matches the reference to 1e-6", "[metrics][parity][data]") {
  CTFORMER_REQUIRE_DATA(path, "translation/eng-fra.20k.tsv");
  const auto fx = load_fixture("bleu_eng_fra.json");
  std::ifstream f(path, std::ios::binary);
  std::vector<std::string> hyps, refs;
  std::string line;
  while (hyps.size() < 500 && std::getline(f, line)) {
    const std::size_t tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    const std::string fr = line.substr(tab + 1);
    hyps.push_back(perturb(hyps.size(), fr));
    refs.push_back(fr);
  }
  REQUIRE(hyps.size() == 500);
  const auto first = strings(fx.at("first_hypotheses"));
  for (std::size_t i = 0; i < first.size(); ++i) CHECK(hyps[i] == first[i]);  // same perturbation

  const auto got = m::corpus_bleu(hyps, refs);  // sacreBLEU defaults: 13a, exp smoothing
  const auto& e = fx.at("expected");
  CHECK(std::abs(got.score - e.at("score").as_number()) < 1e-6);
  check_score(got, e);
  std::printf("eng-fra 500 pairs: BLEU %.6f (reference %.6f), BP %.6f, precisions %.2f/%.2f/%.2f/%.2f\n", got.score,
              e.at("score").as_number(), got.bp, got.precisions[0], got.precisions[1], got.precisions[2],
              got.precisions[3]);

  // On the pairs with at least 4 hypothesis tokens NLTK's corpus_bleu has sacreBLEU's
  // definition; its own value is the reference there.
  std::vector<std::string> sh, sr;
  for (const auto& i : fx.at("subset").at("indices").as_array()) {
    sh.push_back(hyps[std::size_t(i.as_int())]);
    sr.push_back(refs[std::size_t(i.as_int())]);
  }
  const auto sub = m::corpus_bleu(sh, sr);
  CHECK(std::abs(sub.score - fx.at("subset").at("nltk").as_number()) < 1e-6);
  check_score(sub, fx.at("subset").at("expected"));
}
