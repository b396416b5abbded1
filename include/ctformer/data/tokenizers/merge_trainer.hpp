// The merge loop shared by byte-level BPE and WordPiece training: words are symbol sequences with
// counts; repeatedly the most frequent adjacent pair (ties: the smaller (left, right) ids) is
// merged everywhere. Counts are updated incrementally (only the words holding the pair are
// touched) and the best pair comes from a max-heap with lazy invalidation, as in the usual
// trainers, so a merge costs time in proportion to the words it changes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "hash.hpp"

namespace ctformer::detail {

struct merge_word {
  std::vector<std::int32_t> symbols;
  std::int64_t count = 0;
};

struct merge_step {
  std::int32_t left, right, result;
};

/// Runs merges until `want_more()` is false or no pair occurs at least min_frequency times.
/// make_symbol(left, right) returns the id of the merged symbol (it may create a new one, or
/// return an existing id when two pairs spell the same token). Returns the merges in order.
template <class MakeSymbol, class WantMore>
std::vector<merge_step> train_merges(std::vector<merge_word>& words, std::int64_t min_frequency,
                                     MakeSymbol&& make_symbol, WantMore&& want_more) {
  u64_map counts;                                    ///< pair -> occurrences (weighted by word count)
  std::vector<std::vector<std::uint32_t>> where;     ///< pair slot -> words that held it (may repeat)
  u64_map where_index;                               ///< pair -> index into `where`
  auto add = [&](std::int32_t a, std::int32_t b, std::int64_t c, std::uint32_t w) {
    std::uint64_t& v = counts.get_or_insert(pair_key(a, b), 0);
    v = std::uint64_t(std::int64_t(v) + c);
    if (c > 0) {
      bool inserted;
      std::uint64_t& slot = where_index.get_or_insert(pair_key(a, b), where.size(), &inserted);
      if (inserted) where.emplace_back();
      where[slot].push_back(w);
    }
  };
  for (std::uint32_t w = 0; w < words.size(); ++w) {
    const auto& s = words[w].symbols;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) add(s[i], s[i + 1], words[w].count, w);
  }

  struct entry {
    std::int64_t count;
    std::int32_t a, b;
    bool operator<(const entry& o) const {  ///< max-heap: larger count, then smaller ids, first
      if (count != o.count) return count < o.count;
      if (a != o.a) return a > o.a;
      return b > o.b;
    }
  };
  std::priority_queue<entry> heap;
  counts.for_each([&](std::uint64_t k, std::uint64_t v) {
    heap.push({std::int64_t(v), std::int32_t(k >> 32), std::int32_t(std::uint32_t(k))});
  });

  std::vector<merge_step> merges;
  std::vector<std::int32_t> next;
  std::vector<std::uint32_t> touched;
  while (!heap.empty() && want_more()) {
    const entry top = heap.top();
    heap.pop();
    const std::uint64_t key = pair_key(top.a, top.b);
    const std::int64_t now = std::int64_t(*counts.find(key));
    if (now != top.count) {  // stale entry: requeue with the current count
      if (now > 0) heap.push({now, top.a, top.b});
      continue;
    }
    if (now < min_frequency || now <= 0) break;
    const std::int32_t merged = make_symbol(top.a, top.b);
    merges.push_back({top.a, top.b, merged});

    touched = where[*where_index.find(key)];
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    u64_map grown;  ///< pairs whose count rose: they need a fresh heap entry
    for (std::uint32_t w : touched) {
      auto& s = words[w].symbols;
      const std::int64_t c = words[w].count;
      bool any = false;
      for (std::size_t i = 0; i + 1 < s.size(); ++i)
        if (s[i] == top.a && s[i + 1] == top.b) { any = true; break; }
      if (!any) continue;
      for (std::size_t i = 0; i + 1 < s.size(); ++i) add(s[i], s[i + 1], -c, w);
      next.clear();
      for (std::size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == top.a && s[i + 1] == top.b) {
          next.push_back(merged);
          i += 2;
        } else {
          next.push_back(s[i++]);
        }
      }
      s.swap(next);
      for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        add(s[i], s[i + 1], c, w);
        grown.get_or_insert(pair_key(s[i], s[i + 1]), 0);
      }
    }
    grown.for_each([&](std::uint64_t k, std::uint64_t) {
      const std::int64_t v = std::int64_t(*counts.find(k));
      if (v > 0) heap.push({v, std::int32_t(k >> 32), std::int32_t(std::uint32_t(k))});
    });
  }
  return merges;
}

}  // namespace ctformer::detail
