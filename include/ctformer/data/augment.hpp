// Augmentation. BERT's masked-LM corruption: per row, round(15%) of the real, non-special
// positions are chosen (as BERT's create_pretraining_data does); each chosen token becomes [MASK]
// with p 0.8, a random non-special token with p 0.1, or stays with p 0.1, and only chosen
// positions get a target. Also EDA-style random deletion and swap, and synonym replacement.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "../error.hpp"
#include "batch.hpp"
#include "sampling.hpp"

namespace ctformer {

/// BERT's masked-language-model corruption: which tokens are chosen and what replaces them.
struct mlm_options {
  double select = 0.15;        ///< share of real, non-special tokens chosen
  double to_mask = 0.8;        ///< of those: replaced by [MASK]
  double to_random = 0.1;      ///< of those: replaced by a random token (the rest stay)
  std::int32_t mask_id = -1;  ///< the [MASK] token's id
  std::size_t vocab_size = 0;  ///< random replacements are drawn from [0, vocab_size)
  std::vector<std::int32_t> special_ids{};  ///< never chosen, never drawn as the random token
};

/// One row: ids is corrupted in place; targets gets the original id at chosen positions and
/// ignore_index elsewhere. Positions with attention 0 (padding) are never chosen.
inline void mlm_mask_row(std::span<std::int32_t> ids, std::span<const std::int32_t> attention,
                         std::span<std::int32_t> targets, const mlm_options& o, sample_rng& rng) {
  if (o.mask_id < 0) fail("MLM masking: mask_id is not set (the tokenizer has no [MASK] token?)");
  if (o.vocab_size <= o.special_ids.size()) fail("MLM masking: vocab_size {} leaves no ordinary token", o.vocab_size);
  auto special = [&](std::int32_t id) {
    return id == o.mask_id || std::find(o.special_ids.begin(), o.special_ids.end(), id) != o.special_ids.end();
  };
  std::vector<std::size_t> cand;
  for (std::size_t j = 0; j < ids.size(); ++j) {
    targets[j] = ignore_index;
    if (attention[j] != 0 && !special(ids[j])) cand.push_back(j);
  }
  const std::size_t k = std::min(cand.size(), std::size_t(std::llround(o.select * double(cand.size()))));
  for (std::size_t i = 0; i < k; ++i) {  // partial Fisher-Yates: the first k are a uniform sample
    std::swap(cand[i], cand[i + rng.uniform(cand.size() - i)]);
    const std::size_t j = cand[i];
    targets[j] = ids[j];
    const double u = rng.uniform01();
    if (u < o.to_mask) {
      ids[j] = o.mask_id;
    } else if (u < o.to_mask + o.to_random) {
      std::int32_t r;
      do r = std::int32_t(rng.uniform(o.vocab_size));
      while (special(r));
      ids[j] = r;
    }
  }
}

template <std::size_t B, std::size_t S>
void mlm_mask(token_batch<B, S>& batch, const mlm_options& o, sample_rng& rng) {
  for (std::size_t r = 0; r < B; ++r)
    mlm_mask_row(std::span<std::int32_t>(&batch.ids(r, 0), S), std::span<const std::int32_t>(&batch.attention_mask(r, 0), S),
                 std::span<std::int32_t>(&batch.targets(r, 0), S), o, rng);
}

/// Deletes each element with probability p; never returns an empty sequence from a non-empty one
/// (one random element survives, as in EDA).
template <class T>
std::vector<T> random_deletion(std::span<const T> items, double p, sample_rng& rng) {
  std::vector<T> out;
  for (const T& x : items)
    if (rng.uniform01() >= p) out.push_back(x);
  if (out.empty() && !items.empty()) out.push_back(items[rng.uniform(items.size())]);
  return out;
}

/// Swaps two random positions, n times.
template <class T>
std::vector<T> random_swap(std::span<const T> items, std::size_t n, sample_rng& rng) {
  std::vector<T> out(items.begin(), items.end());
  if (out.size() < 2) return out;
  for (std::size_t i = 0; i < n; ++i) std::swap(out[rng.uniform(out.size())], out[rng.uniform(out.size())]);
  return out;
}

using synonym_map = std::unordered_map<std::string, std::vector<std::string>>;

/// Replaces up to n distinct words that have synonyms, each by one of its synonyms at random.
inline std::vector<std::string> synonym_replacement(std::span<const std::string> words, const synonym_map& synonyms,
                                                    std::size_t n, sample_rng& rng) {
  std::vector<std::string> out(words.begin(), words.end());
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto it = synonyms.find(out[i]);
    if (it != synonyms.end() && !it->second.empty()) where.push_back(i);
  }
  shuffle(std::span<std::size_t>(where), rng);
  for (std::size_t i = 0; i < std::min(n, where.size()); ++i) {
    const auto& options = synonyms.at(out[where[i]]);
    out[where[i]] = options[rng.uniform(options.size())];
  }
  return out;
}

}  // namespace ctformer
