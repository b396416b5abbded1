// Seeded shuffles, stratified splits (within one example of each class's share, on the shared
// sentiment and sms-spam sets), k-fold indices and batch plans.
#include <catch2/catch.hpp>

#include <ctformer/data/datasets.hpp>
#include <ctformer/data/sampling.hpp>

#include "support/test_support.hpp"

#include <cmath>
#include <cstdio>
#include <set>

using namespace ctformer;

namespace {
// Worst |count(c in split) - share(c) * |split|| over classes and splits, and checks that the
// split is a partition of 0..n-1.
double worst_deviation(const index_split& s, std::span<const std::int32_t> labels, std::size_t classes) {
  std::vector<std::size_t> all;
  for (const auto* part : {&s.train, &s.validation, &s.test}) all.insert(all.end(), part->begin(), part->end());
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == i);
  REQUIRE(all.size() == labels.size());
  double worst = 0;
  for (const auto* part : {&s.train, &s.validation, &s.test}) {
    for (std::size_t c = 0; c < classes; ++c) {
      const double share = double(std::count(labels.begin(), labels.end(), std::int32_t(c))) / double(labels.size());
      const double have = double(std::count_if(part->begin(), part->end(), [&](std::size_t i) { return labels[i] == std::int32_t(c); }));
      worst = std::max(worst, std::abs(have - share * double(part->size())));
    }
  }
  return worst;
}
}  // namespace

TEST_CASE("shuffles are seeded and portable", "[data]") {
  const auto a = shuffled_indices(10, 42), b = shuffled_indices(10, 42), c = shuffled_indices(10, 43);
  CHECK(a == b);
  CHECK(a != c);
  sample_rng r(1);
  // The first outputs are fixed by the algorithm, on every platform.
  const std::uint64_t first = r.next();
  sample_rng r2(1);
  CHECK(r2.next() == first);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) ++counts[std::size_t(r.uniform(7))];
  for (int k : counts) CHECK(std::abs(k - 10000) < 500);
}

TEST_CASE("stratified splits keep every class within one example of its share", "[data]") {
  CTFORMER_REQUIRE_DATA(yelp, "sentiment/yelp_labelled.txt");
  CTFORMER_REQUIRE_DATA(amazon, "sentiment/amazon_cells_labelled.txt");
  CTFORMER_REQUIRE_DATA(imdb, "sentiment/imdb_labelled.txt");
  CTFORMER_REQUIRE_DATA(sms, "sms-spam/SMSSpamCollection");
  tsv_options first;
  first.label_column = tsv_options::label_at::first;
  struct named { std::string name; classification_set set; };
  std::vector<named> sets = {{"sentiment/yelp", load_classification_tsv(yelp.string())},
                             {"sentiment/amazon", load_classification_tsv(amazon.string())},
                             {"sentiment/imdb", load_classification_tsv(imdb.string())},
                             {"sms-spam", load_classification_tsv(sms.string(), first)}};
  for (const auto& [name, set] : sets) {
    for (const split_fractions f : {split_fractions{0.1, 0.1}, split_fractions{0.15, 0.05}, split_fractions{0.2, 0.0},
                                    split_fractions{0.333, 0.111}}) {
      for (std::uint64_t seed : {1u, 2u, 3u}) {
        const auto s = stratified_split(set.labels, f, seed);
        const double worst = worst_deviation(s, set.labels, set.class_count());
        CHECK(worst <= 1.0);
        CHECK(s.validation.size() == std::size_t(std::llround(f.validation * double(set.labels.size()))));
        if (seed == 1 && f.validation == 0.1)
          std::printf("stratified split of %s (%zu examples) 80/10/10: worst class deviation %.3f examples\n",
                      name.c_str(), set.labels.size(), worst);
      }
    }
  }
  // Many classes and awkward sizes too.
  std::vector<std::int32_t> labels;
  for (int i = 0; i < 1013; ++i) labels.push_back(std::int32_t((i * 7 + i / 13) % 9 == 0 ? 8 : (i % 5)));
  for (std::uint64_t seed = 0; seed < 20; ++seed) CHECK(worst_deviation(stratified_split(labels, {0.17, 0.23}, seed), labels, 9) <= 1.0);
  CHECK_THROWS_WITH(stratified_split(labels, {0.7, 0.5}, 1), "split: fractions validation=0.7 test=0.5 must be >= 0 and sum to at most 1");
}

TEST_CASE("random splits partition the examples", "[data]") {
  const auto s = random_split(103, {0.1, 0.2}, 5);
  CHECK(s.validation.size() == 10);
  CHECK(s.test.size() == 21);
  CHECK(s.train.size() == 72);
  std::vector<int> seen(103, 0);
  for (auto i : s.train) ++seen[i];
  for (auto i : s.validation) ++seen[i];
  for (auto i : s.test) ++seen[i];
  CHECK(std::all_of(seen.begin(), seen.end(), [](int k) { return k == 1; }));
}

TEST_CASE("batch plans pad or drop the last batch", "[data]") {
  std::vector<std::size_t> order(10);
  for (std::size_t i = 0; i < 10; ++i) order[i] = 9 - i;
  const auto padded = make_batches<4>(order, last_batch::pad);
  REQUIRE(padded.size() == 3);
  CHECK(padded[2].count == 2);
  CHECK(padded[2].index[0] == 1);
  CHECK(padded[2].index[1] == 0);
  const auto dropped = make_batches<4>(order, last_batch::drop);
  CHECK(dropped.size() == 2);
  CHECK(dropped[1].count == 4);
}
