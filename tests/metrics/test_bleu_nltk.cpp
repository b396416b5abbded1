// NLTK-mode BLEU (metrics/bleu_nltk.hpp) against nltk.translate.bleu_score itself: 400 corpora
// and sentences written by tests/reference/metrics_reference.py with Debian's python3-nltk 3.8,
// over weights, smoothing methods 0-7 (with changed epsilon, alpha, k) and auto_reweigh; cases
// where NLTK raises must throw. Then the difference from sacreBLEU's mode on short segments.
#include <catch2/catch.hpp>

#include <ctformer/metrics/bleu.hpp>
#include <ctformer/metrics/bleu_nltk.hpp>

#include <string>
#include <vector>

#include "fixtures.hpp"

using namespace ctformer;
namespace nk = ctformer::metrics::nltk;

namespace {
nk::tokens token_list(const json::value& a) {
  nk::tokens t;
  for (const auto& v : a.as_array()) t.push_back(v.as_string());
  return t;
}
}  // namespace

TEST_CASE("NLTK BLEU equals nltk's corpus_bleu and sentence_bleu", "[metrics][bleu]") {
  const auto fx = testing::load_fixture("bleu_nltk.json");
  std::size_t checked = 0, errors = 0, nonzero = 0;
  int methods_seen[8] = {};
  for (const auto& c : fx.at("cases").as_array()) {
    std::vector<std::vector<nk::tokens>> refs;
    std::vector<nk::tokens> hyps;
    for (const auto& seg : c.at("references").as_array()) {
      refs.emplace_back();
      for (const auto& r : seg.as_array()) refs.back().push_back(token_list(r));
    }
    for (const auto& h : c.at("hypotheses").as_array()) hyps.push_back(token_list(h));
    nk::bleu_options o;
    o.weights = testing::doubles(c.at("weights"));
    o.smoothing.method = int(c.at("method").as_int());
    o.smoothing.epsilon = c.at("epsilon").as_number();
    o.smoothing.alpha = c.at("alpha").as_number();
    o.smoothing.k = c.at("k").as_number();
    o.auto_reweigh = c.at("auto_reweigh").as_bool();
    const bool sentence = c.at("sentence").as_bool();
    const auto run = [&] {
      return sentence ? nk::sentence_bleu(refs[0], hyps[0], o)
                      : nk::corpus_bleu(std::span<const std::vector<nk::tokens>>(refs), std::span<const nk::tokens>(hyps), o);
    };
    INFO("case " << checked + errors << ", method " << o.smoothing.method << (sentence ? ", sentence" : ", corpus"));
    if (c.at("expected").is_string()) {
      CHECK_THROWS_AS(run(), error);
      ++errors;
      continue;
    }
    const double want = c.at("expected").as_number();
    const double got = run();
    CHECK(got == Approx(want).epsilon(1e-9).margin(1e-12));
    ++checked;
    nonzero += want > 0;
    ++methods_seen[o.smoothing.method];
  }
  CHECK(checked + errors == 400);
  CHECK(nonzero > 200);  // the fixtures exercise real scores, not only zeros
  for (int m = 0; m < 8; ++m) CHECK(methods_seen[m] > 20);
}

TEST_CASE("NLTK and sacreBLEU modes differ where NLTK counts an n-gram per short segment", "[metrics][bleu]") {
  // One two-token segment has no trigram: sacreBLEU adds 0 to the trigram total, NLTK adds 1.
  const std::vector<std::string> hyp_text = {"the cat sat on the mat", "a dog"};
  const std::vector<std::string> ref_text = {"the cat sat on the mat", "a dog"};
  const auto sacre = metrics::corpus_bleu(hyp_text, std::span<const std::string>(ref_text)).score / 100;
  std::vector<std::vector<nk::tokens>> refs = {{{"the", "cat", "sat", "on", "the", "mat"}}, {{"a", "dog"}}};
  std::vector<nk::tokens> hyps = {{"the", "cat", "sat", "on", "the", "mat"}, {"a", "dog"}};
  const double nltk = nk::corpus_bleu(refs, hyps);
  CHECK(sacre == Approx(1.0));
  // p3 = 4/5 and p4 = 3/4 in NLTK (the short segment adds a denominator of 1 each).
  CHECK(nltk == Approx(std::exp(0.25 * (std::log(4.0 / 5) + std::log(3.0 / 4)))).epsilon(1e-12));
  CHECK_THROWS_WITH(nk::corpus_bleu(refs, std::span<const nk::tokens>(hyps.data(), 1)),
                    Catch::Contains("1 hypotheses but 2 reference lists"));
}
