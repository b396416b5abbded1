// Ranking metrics against scikit-learn 1.2: ndcg_score (ties averaged, cut-off k, all-zero
// relevance) per query and averaged, and MAP as average_precision_score(average="samples").
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include <ctformer/metrics/ranking.hpp>

#include "fixtures.hpp"

namespace m = ctformer::metrics;
using namespace ctformer::testing;

TEST_CASE("NDCG@k and MAP match sklearn, ties and all-zero relevance included", "[metrics][parity]") {
  const auto fx = load_fixture("ranking.json");
  std::size_t map_cases = 0;
  for (const auto& c : fx.at("cases").as_array()) {
    const auto rel = doubles(c.at("relevance")), s = doubles(c.at("scores"));
    const std::size_t d = std::size_t(c.at("docs").as_int());
    const std::optional<std::size_t> k =
        c.at("k").is_null() ? std::nullopt : std::optional<std::size_t>(std::size_t(c.at("k").as_int()));
    const auto& e = c.at("expected");
    INFO("docs " << d << ", k " << c.at("k").dump() << ", relevance " << c.at("relevance").dump() << ", scores "
                 << c.at("scores").dump());
    CHECK_NEAR(m::ndcg_score(rel, s, d, k), e.at("ndcg").as_number());
    const auto& per = e.at("per_query").as_array();
    m::ranking_metrics acc(k ? std::vector<std::size_t>{*k} : std::vector<std::size_t>{});
    for (std::size_t q = 0; q < per.size(); ++q) {
      const m::real_view rv = m::real_view(rel).subview(q * d, d), sv = m::real_view(s).subview(q * d, d);
      CHECK_NEAR(m::ndcg_query(rv, sv, k), per[q].as_number());
      acc.add_query(rv, sv);
    }
    const auto r = acc.result();
    CHECK_NEAR(r.at(k ? fmt::format("ndcg@{}", *k) : std::string("ndcg")), e.at("ndcg").as_number());
    if (const auto* map = e.find("map")) {
      std::vector<std::int32_t> bin(rel.begin(), rel.end());
      CHECK_NEAR(m::mean_average_precision(bin, s, d), map->as_number());
      CHECK_NEAR(r.at("map"), map->as_number());
      ++map_cases;
    } else if (std::any_of(rel.begin(), rel.end(), [](double v) { return v != 0 && v != 1; })) {
      CHECK_FALSE(r.contains("map"));  // graded relevance: no MAP
    }
  }
  CHECK(fx.at("cases").size() >= 150);
  CHECK(map_cases >= 60);
}

TEST_CASE("edge: ranking with all-zero relevance, one document, negatives, NaN, empty", "[metrics][edge]") {
  const std::vector<double> zero = {0, 0, 0}, s = {0.3, 0.2, 0.1};
  CHECK(m::ndcg_query(zero, s) == 0.0);  // sklearn: all-irrelevant queries score 0
  const std::vector<std::int32_t> zero_i = {0, 0, 0};
  CHECK(m::mean_average_precision(zero_i, s, 3) == 0.0);
  const std::vector<double> one = {1}, one_s = {0.5};
  CHECK_THROWS_WITH(m::ndcg_query(one, one_s), Catch::Contains("at least 2 documents"));
  const std::vector<double> neg = {1, -1, 0};
  CHECK_THROWS_WITH(m::ndcg_query(neg, s), Catch::Contains("relevance -1 at index 1 is negative"));
  const std::vector<double> nan = {0.3, std::nan(""), 0.1};
  CHECK_THROWS_WITH(m::ndcg_query(s, nan), Catch::Contains("score at index 1 is NaN"));
  CHECK_THROWS_WITH(m::ndcg_query(s, s, 0), Catch::Contains("k must be at least 1"));
  const std::vector<double> none;
  CHECK_THROWS_WITH(m::ndcg_score(none, none, 3), Catch::Contains("empty input"));
  CHECK_THROWS_WITH(m::ndcg_score(s, s, 2), Catch::Contains("do not split into queries of 2"));
  m::ranking_metrics acc;
  CHECK_THROWS_WITH(acc.result(), Catch::Contains("empty input"));
  // The tie rule by hand (sklearn's docstring example): relevance 10 and 5 tie at the top for
  // k = 1, so the first slot gets their mean gain: (10 + 5) / 2 / 10 = 0.75.
  const std::vector<double> rel = {10, 0, 0, 1, 5}, sc = {1, 0, 0, 0, 1};
  CHECK(m::ndcg_query(rel, sc, 1) == Approx(0.75).epsilon(1e-15));
}
