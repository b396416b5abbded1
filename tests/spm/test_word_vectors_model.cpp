// Word vectors into a real model's token embedding: initialize() gives every row the model's
// scheme, then the vectors replace the rows of the tokens found, and the others keep their values.
#include <ctformer/data/tokenizers/sentencepiece.hpp>
#include <ctformer/data/word_vectors.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/init.hpp>

#include "spm_test_util.hpp"

#include <memory>

using namespace ctformer;
using namespace ctformer::testing;

TEST_CASE("word vectors: a decoder_lm's wte, initialized by the model's scheme", "[data]") {
  const auto tok = sentencepiece_tokenizer::load(spm_fixture("shakespeare_unigram1000_identity.model"));
  constexpr gpt_config cfg{.vocab = 1000, .context = 8, .d_model = 4, .heads = 1, .d_ff = 8, .layers = 1};
  using model = decoder_lm<cfg>;
  auto p = std::make_unique<model::params>();
  initialize(*p, cfg.init, cfg.init_std, model::L, 3);
  const tensor2<float, 1000, 4> before = p->wte;
  word_vector_options opt;
  opt.fill_missing = false;
  const auto rep = load_word_vectors(spm_fixture("word_vectors_small.txt"), tok, view_of(p->wte), opt);
  CHECK(rep.found >= 1);
  CHECK(rep.found + rep.missing == 1000);
  const std::size_t the = std::size_t(*tok.token_to_id("\xE2\x96\x81the"));
  CHECK(p->wte(the, 0) == 0.1f);
  CHECK(p->wte(the, 3) == 0.4f);
  for (std::size_t r = 0; r < 1000; ++r)
    if (!rep.loaded[r])
      for (std::size_t c = 0; c < 4; ++c) CHECK(p->wte(r, c) == before(r, c));
}
