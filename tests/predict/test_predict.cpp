// Predictions in one call (deploy/predict.hpp): for each model family the one-call result equals
// the hand-built path (encode, batch, forward, read the outputs), texts give the same result alone
// or among others at any rows per forward, and bad calls are named.
#include <catch2/catch.hpp>

#include <ctformer/data/tokenizers/char.hpp>
#include <ctformer/deploy/ensemble.hpp>
#include <ctformer/deploy/predict.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/models/seq2seq.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace ctformer;

namespace {

const std::string corpus = "the quick brown fox jumps over a lazy dog, THE END.";
const std::vector<std::string> texts = {"the fox", "a lazy dog jumps over the quick brown fox, the end", "dog",
                                        "THE END.", "over"};

constexpr bert_config bcfg{.vocab = 48, .context = 16, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 2};

template <class P>
void perturb(P& p, std::uint64_t seed) {
  for_each_tensor(p, [&](const tensor_info& info, auto& t) {
    rng r(seed + t.size());
    for (auto& v : t) v += (info.role == role::norm || info.role == role::bias ? 0.2f : 0.05f) * float(r.normal());
  });
}

// The hand-built path: one text in a batch of one, forward in eval mode.
template <class M, class Read>
void by_hand(const typename M::params& p, const tokenizer& tok, const std::string& text, Read&& read) {
  using ws_t = typename M::template workspace<1, bcfg.context>;
  auto ws = std::make_unique<ws_t>();
  auto b = std::make_unique<typename ws_t::batch_type>();
  encode_options o;
  o.tmpl = sequence_template::bert(tok.specials());
  write_row(b->ids, b->attention_mask, b->token_type, 0, encode_fixed<bcfg.context>(tok, text, o));
  M::forward(p, *ws, *b, run_mode::eval());
  read(*ws, *b);
}

}  // namespace

TEST_CASE("text_classifier: labels and probabilities of one text or many", "[predict]") {
  using M = encoder<bcfg, classify<3>>;
  const auto tok = char_tokenizer::build(corpus);
  REQUIRE(tok.vocab_size() <= bcfg.vocab);
  auto p = std::make_unique<M::params>();
  M::init(*p, 3);
  perturb(*p, 4);
  text_classifier<M, 2> many(*p, tok);  // 2 rows per forward: 5 texts take 3 forwards, the last padded
  text_classifier<M, 1> one(*p, tok);
  const auto preds = many.predict(texts);
  REQUIRE(preds.size() == texts.size());
  std::set<std::int32_t> labels;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO(texts[i]);
    const auto& c = preds[i];
    REQUIRE(c.probabilities.size() == 3);
    double sum = 0;
    for (double q : c.probabilities) sum += q;
    CHECK(sum == Approx(1.0).epsilon(1e-12));
    by_hand<M>(*p, tok, texts[i], [&](const auto& ws, const auto&) {
      const float* z = ws.head_ws.logits.data();
      const std::int32_t best = std::int32_t(std::max_element(z, z + 3) - z);
      CHECK(c.label == best);
      const double m = *std::max_element(z, z + 3);
      const double denom = std::exp(z[0] - m) + std::exp(z[1] - m) + std::exp(z[2] - m);
      // (a padded neighbour switches attention to its masked path: float rounding differs)
      for (std::size_t k = 0; k < 3; ++k) CHECK(c.probabilities[k] == Approx(std::exp(z[k] - m) / denom).epsilon(1e-6));
    });
    const auto alone = one.predict(texts[i]);
    CHECK(alone.label == c.label);
    for (std::size_t k = 0; k < 3; ++k)  // rows per forward change float rounding only
      CHECK(alone.probabilities[k] == Approx(c.probabilities[k]).epsilon(1e-6));
    labels.insert(c.label);
  }
  CHECK(many.predict(std::vector<std::string>{}).empty());
}

TEST_CASE("text_regressor and sentence_embedder equal the hand-built forward", "[predict]") {
  using R = encoder<bcfg, regress<pooling::mean>>;
  const auto tok = char_tokenizer::build(corpus);
  auto p = std::make_unique<R::params>();
  R::init(*p, 5);
  perturb(*p, 6);
  text_regressor<R, 3> reg(*p, tok);
  const auto values = reg.predict(texts);
  sentence_embedder<R, 4> emb(*p, tok), unit(*p, tok, true);
  const auto vectors = emb.embed(texts);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO(texts[i]);
    by_hand<R>(*p, tok, texts[i], [&](const auto& ws, const auto& b) {
      CHECK(values[i] == double(ws.head_ws.logits(0, 0)));
      std::vector<double> mean(bcfg.d_model, 0.0);
      std::size_t n = 0;
      for (std::size_t s = 0; s < bcfg.context; ++s)
        if (b.attention_mask(0, s)) {
          ++n;
          for (std::size_t c = 0; c < bcfg.d_model; ++c) mean[c] += ws.final_hidden()[s * bcfg.d_model + c];
        }
      REQUIRE(vectors[i].size() == bcfg.d_model);
      for (std::size_t c = 0; c < bcfg.d_model; ++c) CHECK(vectors[i][c] == Approx(mean[c] / double(n)).epsilon(1e-6));
    });
    CHECK(reg.predict(texts[i]) == Approx(values[i]).epsilon(1e-6));
    const auto u = unit.embed(texts[i]);
    double norm = 0;
    for (float v : u) norm += double(v) * v;
    CHECK(std::sqrt(norm) == Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("text_generator continues prompt strings as generate() does", "[predict]") {
  constexpr gpt_config gcfg{.vocab = 41, .context = 24, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 2};
  using M = decoder_lm<gcfg>;
  const auto tok = char_tokenizer::build(corpus);
  REQUIRE(tok.vocab_size() == gcfg.vocab);
  auto p = std::make_unique<M::params>();
  M::init(*p, 7);
  perturb(*p, 8);
  generate_options o;
  o.max_new_tokens = 6;
  o.sample.temperature = 0;  // greedy
  const std::vector<std::string> prompts = {"the qu", "a lazy", "fox"};
  text_generator<M, 2> gen(*p, tok);
  text_generator<M, 1> gen1(*p, tok);
  const auto out = gen.complete(prompts, o);
  REQUIRE(out.size() == 3);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto ids = tok.encode(prompts[i]);
    const auto g = generate<M>(*p, ids, o);
    CHECK(out[i] == tok.decode(g.tokens));
    CHECK(gen1.complete(prompts[i], o) == out[i]);
  }
  // Sampling: prompt i draws from seed + i, with two prompts per pass or one.
  o.sample.temperature = 1.0f;
  o.sample.seed = 11;
  const auto sampled = gen.complete(prompts, o);
  CHECK(gen1.complete(prompts, o) == sampled);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    generate_options oi = o;
    oi.sample.seed = 11 + i;
    CHECK(sampled[i] == tok.decode(generate<M>(*p, tok.encode(prompts[i]), oi).tokens));
  }
  CHECK_THROWS_WITH(gen.complete(""), Catch::Contains("prompt 0 is empty"));
}

TEST_CASE("translator: greedy and beam search from strings", "[predict]") {
  constexpr seq2seq_config scfg{.src_vocab = 41, .tgt_vocab = 23, .src_context = 12, .tgt_context = 12,
                                .d_model = 16, .heads = 2, .d_ff = 32, .enc_layers = 1, .dec_layers = 1};
  using M = seq2seq<scfg>;
  const auto src = char_tokenizer::build(corpus), tgt = char_tokenizer::build("le renard brun saute, FIN.");
  REQUIRE(src.vocab_size() == scfg.src_vocab);
  REQUIRE(tgt.vocab_size() == scfg.tgt_vocab);
  const seq2seq_specials sp{tgt.specials().bos, tgt.specials().eos, tgt.specials().pad};
  auto p = std::make_unique<M::params>();
  M::init(*p, 9);
  perturb(*p, 10);
  translator<M, 3> tr(*p, src, tgt, sp);
  const std::vector<std::string> in = {"the fox", "dog", "a lazy dog", "over"};
  const auto greedy = tr.translate(in);
  const auto beam = tr.translate(in, 3, 0.6);
  auto sc = std::make_unique<seq2seq_scorer<M, 3>>(*p, sp);
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO(in[i]);
    sc->set_source(src.encode(in[i]));
    decode_options g;
    g.eos = sp.eos;
    CHECK(greedy[i] == tgt.decode(greedy_decode(*sc, 1, g)[0].tokens));
    beam_options b;
    b.eos = sp.eos;
    b.beam = 3;
    b.length_penalty = 0.6;
    CHECK(beam[i] == tgt.decode(beam_search(*sc, b)[0].tokens));
    CHECK(tr.translate(in[i]) == greedy[i]);
  }
  CHECK_THROWS_WITH(tr.translate("dog", 4), Catch::Contains("beam 4 must be between 1 and 3"));
}

TEST_CASE("classifier_ensemble: soft, logit and hard voting over different model types", "[predict]") {
  using M1 = encoder<bcfg, classify<3>>;
  constexpr bert_config bcfg2{.vocab = 48, .context = 16, .d_model = 24, .heads = 3, .d_ff = 40, .layers = 1};
  using M2 = encoder<bcfg2, classify<3, pooling::mean>>;
  const auto tok = char_tokenizer::build(corpus);
  auto p1 = std::make_unique<M1::params>();
  auto p2 = std::make_unique<M2::params>();
  M1::init(*p1, 21);
  perturb(*p1, 22);
  M2::init(*p2, 23);
  perturb(*p2, 24);
  text_classifier<M1, 2> a(*p1, tok);
  text_classifier<M2, 3> b(*p2, tok);
  const auto pa = a.predict(texts), pb = b.predict(texts);
  classifier_ensemble soft, logit(ensemble_vote::average_logits), hard(ensemble_vote::majority_vote);
  soft.add(a, 1.0).add(b, 3.0);
  logit.add(a, 1.0).add(b, 3.0);
  hard.add(a, 1.0).add(b, 3.0);
  const auto ps = soft.predict(texts), pl = logit.predict(texts), ph = hard.predict(texts);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO(texts[i]);
    std::vector<double> z(3);
    double mx = -1e300, s = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      CHECK(ps[i].probabilities[k] == Approx((pa[i].probabilities[k] + 3 * pb[i].probabilities[k]) / 4).epsilon(1e-12));
      z[k] = (pa[i].logits[k] + 3 * pb[i].logits[k]) / 4;
      mx = std::max(mx, z[k]);
    }
    for (auto& v : z) s += v = std::exp(v - mx);
    for (std::size_t k = 0; k < 3; ++k) CHECK(pl[i].probabilities[k] == Approx(z[k] / s).epsilon(1e-12));
    CHECK(ps[i].label == std::int32_t(std::max_element(ps[i].probabilities.begin(), ps[i].probabilities.end()) -
                                      ps[i].probabilities.begin()));
    CHECK(ph[i].label == pb[i].label);  // b's weight 3 outvotes a's 1
  }
  // Equal weights and two different votes: the lower label wins, as sklearn's hard voting.
  classifier_ensemble tie(ensemble_vote::majority_vote);
  tie.add(a).add(b);
  for (std::size_t i = 0; i < texts.size(); ++i)
    if (pa[i].label != pb[i].label) CHECK(tie.predict(texts[i]).label == std::min(pa[i].label, pb[i].label));
  // The k fold models of one type: add_all.
  std::vector<text_classifier<M1, 2>> folds;
  folds.emplace_back(*p1, tok);
  folds.emplace_back(*p1, tok);
  classifier_ensemble k;
  k.add_all(folds);
  CHECK(k.size() == 2);
  CHECK(k.predict(texts[0]).probabilities == pa[0].probabilities);
  classifier_ensemble none;
  CHECK_THROWS_WITH(none.predict(texts[0]), Catch::Contains("no members"));
}
