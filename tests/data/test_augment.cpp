// MLM masking statistics over 100k tokens (15% chosen; 80/10/10 mask/random/keep; specials and
// padding never chosen), random deletion and swap, synonym replacement.
#include <catch2/catch.hpp>

#include <ctformer/data/augment.hpp>

#include <cstdio>
#include <memory>

using namespace ctformer;

TEST_CASE("MLM masking: 15% of real tokens, 80/10/10, never specials or padding", "[data]") {
  constexpr std::size_t B = 100, S = 128;  // 12,800 positions per batch
  constexpr std::int32_t V = 30522, pad = 0, cls = 101, sep = 102, mask = 103;
  auto batch = std::make_unique<token_batch<B, S>>();
  mlm_options o;
  o.mask_id = mask;
  o.vocab_size = V;
  o.special_ids = {pad, 100, cls, sep, mask};
  sample_rng data_rng(3), rng(4);
  std::size_t real = 0, chosen = 0, masked = 0, randomized = 0, kept = 0, bad = 0;
  while (real < 100000) {
    for (std::size_t r = 0; r < B; ++r) {
      const std::size_t len = 16 + data_rng.uniform(S - 16 + 1);  // then padding
      for (std::size_t j = 0; j < S; ++j) {
        std::int32_t id = j < len ? std::int32_t(1000 + data_rng.uniform(V - 1000)) : pad;
        if (j == 0) id = cls;
        if (j + 1 == len || (j < len && j % 17 == 5)) id = sep;  // specials inside the text too
        batch->ids(r, j) = id;
        batch->attention_mask(r, j) = j < len ? 1 : 0;
      }
    }
    auto original = std::make_unique<token_batch<B, S>>(*batch);
    mlm_mask(*batch, o, rng);
    for (std::size_t r = 0; r < B; ++r)
      for (std::size_t j = 0; j < S; ++j) {
        const std::int32_t was = original->ids(r, j), now = batch->ids(r, j), target = batch->targets(r, j);
        const bool special = was == pad || was == cls || was == sep;
        if (!special && batch->attention_mask(r, j)) ++real;
        if (target == ignore_index) {
          bad += now != was;  // unchosen positions are untouched
          continue;
        }
        ++chosen;
        bad += special || batch->attention_mask(r, j) == 0 || target != was;
        if (now == mask) ++masked;
        else if (now == was) ++kept;
        else ++randomized;
        bad += now != mask && now != was && (now == pad || now == cls || now == sep || now < 0 || now >= V);
      }
  }
  const double p_chosen = double(chosen) / double(real), p_mask = double(masked) / double(chosen),
               p_rand = double(randomized) / double(chosen), p_keep = double(kept) / double(chosen);
  std::printf("MLM over %zu real tokens: chosen %.2f%%; of those mask %.2f%%, random %.2f%%, kept %.2f%%\n", real,
              100 * p_chosen, 100 * p_mask, 100 * p_rand, 100 * p_keep);
  CHECK(bad == 0);
  CHECK(real >= 100000);
  CHECK(std::abs(p_chosen - 0.15) < 0.01);
  CHECK(std::abs(p_mask - 0.80) < 0.01);
  CHECK(std::abs(p_rand - 0.10) < 0.01);
  CHECK(std::abs(p_keep - 0.10) < 0.01);
  o.mask_id = -1;
  CHECK_THROWS_WITH(mlm_mask(*batch, o, rng), "MLM masking: mask_id is not set (the tokenizer has no [MASK] token?)");
}

TEST_CASE("random deletion, swap and synonym replacement", "[data]") {
  sample_rng rng(7);
  std::vector<int> v(1000);
  for (int i = 0; i < 1000; ++i) v[std::size_t(i)] = i;
  const auto kept = random_deletion(std::span<const int>(v), 0.3, rng);
  CHECK(std::abs(double(kept.size()) - 700.0) < 60);
  CHECK(std::is_sorted(kept.begin(), kept.end()));  // order kept
  const std::vector<int> one = {5};
  CHECK(random_deletion(std::span<const int>(one), 1.0, rng) == one);  // never empty
  const auto swapped = random_swap(std::span<const int>(v), 3, rng);
  CHECK(std::is_permutation(swapped.begin(), swapped.end(), v.begin()));
  std::size_t moved = 0;
  for (std::size_t i = 0; i < v.size(); ++i) moved += swapped[i] != v[i];
  CHECK(moved <= 6);
  CHECK(moved >= 2);
  const synonym_map syn = {{"quick", {"fast", "speedy"}}, {"happy", {"glad"}}};
  const std::vector<std::string> words = {"the", "quick", "happy", "dog", "quick"};
  const auto out = synonym_replacement(std::span<const std::string>(words), syn, 2, rng);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < words.size(); ++i)
    if (out[i] != words[i]) {
      ++changed;
      CHECK(syn.count(words[i]) == 1);
      const auto& opts = syn.at(words[i]);
      CHECK(std::find(opts.begin(), opts.end(), out[i]) != opts.end());
    }
  CHECK(changed == 2);
  CHECK(synonym_replacement(std::span<const std::string>(words), syn, 10, rng)[2] == "glad");
}
