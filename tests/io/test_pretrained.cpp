// Fine-tuning's loading: an encoder pretrained with an MLM head (as a ctformer checkpoint or as a
// BERT-named weights file) loads into the same encoder with a new classification head; the body
// matches bit for bit and the head keeps its fresh initialization.
#include <catch2/catch.hpp>

#include <ctformer/io/checkpoint.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/train/trainer.hpp>

#include "support/same_bits.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include "support/test_support.hpp"

using namespace ctformer;
using testing::same_bits;

namespace {
constexpr bert_config cfg{.vocab = 30, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 2};
using pretrain_model = encoder<cfg, mlm>;
using finetune_model = encoder<cfg, classify<2>>;

}  // namespace

TEST_CASE("an MLM-pretrained body loads under a classification head", "[io]") {
  trainer<pretrain_model, adamw> pre;
  for_each_tensor(pre.weights(), [](const tensor_info&, auto& t) {
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] += 0.001f * float(i % 7);  // not the init
  });
  const auto ckpt = testing::temp_path("pretrained_ckpt.safetensors").string();
  const auto hf = testing::temp_path("pretrained_hf.safetensors").string();
  save_checkpoint(ckpt, pre);
  save_weights(hf, pre.weights(), {.prefix = "bert."});  // as BertForMaskedLM files name them

  for (const auto& path : {ckpt, hf}) {
    auto fine = std::make_unique<finetune_model::params>();
    finetune_model::init(*fine, 5);
    const auto head_before = fine->head;
    const std::size_t n = load_pretrained(path, *fine, {"embeddings.", "encoder."});
    INFO(path);
    CHECK(n == 3 + 2 + 16 * cfg.layers);  // 3 embedding tables, the embedding LayerNorm, 16 per layer
    CHECK(same_bits(fine->body, pre.weights().body));
    CHECK(same_bits(fine->head, head_before));
  }
  // Loading a body of another shape is refused with the tensor named.
  constexpr bert_config wider{.vocab = 30, .context = 8, .d_model = 32, .heads = 2, .d_ff = 32, .layers = 2};
  auto other = std::make_unique<encoder<wider, classify<2>>::params>();
  CHECK_THROWS_WITH(load_pretrained(hf, *other, {"embeddings.", "encoder."}),
                    Catch::Contains("tensor 'bert.embeddings.word_embeddings.weight' has shape [30, 16]"));
  // A checkpoint given to load_weights is named as one (not 90 shape errors), the model untouched.
  auto same = std::make_unique<pretrain_model::params>();
  pretrain_model::init(*same, 5);
  const auto before = std::make_unique<pretrain_model::params>(*same);
  CHECK_THROWS_WITH(load_weights(ckpt, *same), Catch::Contains("it is a ctformer training checkpoint") &&
                                                   Catch::Contains("use load_checkpoint") &&
                                                   Catch::Contains("load_pretrained"));
  CHECK(same_bits(*same, *before));
  std::remove(ckpt.c_str());
  std::remove(hf.c_str());
}
