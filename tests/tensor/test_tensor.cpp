// Fixed tensors, views over them, for_each_tensor over nested structs, and the thread pool.
#include <catch2/catch.hpp>

#include <ctformer/tensor/tensor.hpp>
#include <ctformer/tensor/threading.hpp>
#include <ctformer/tensor/visit.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

using namespace ctformer;

TEST_CASE("views slice per layer, per batch row and per head without copying", "[tensor]") {
  auto t = std::make_unique<tensor3<float, 2, 3, 4>>();
  for (std::size_t i = 0; i < t->size(); ++i) t->data()[i] = float(i);
  tensor_view<float, 2, 3, 4> v = *t;
  STATIC_REQUIRE(v.size == 24);
  STATIC_REQUIRE(v.strides[0] == 12);
  CHECK(v(1, 2, 3) == 23.f);
  auto layer1 = v[1];  // (3, 4)
  STATIC_REQUIRE(std::is_same_v<decltype(layer1), tensor_view<float, 3, 4>>);
  CHECK(layer1.data() == t->data() + 12);
  CHECK(layer1(0, 1) == 13.f);
  auto row = layer1[2];  // (4)
  CHECK(row[3] == 23.f);
  row[3] = -1.f;
  CHECK((*t)(1, 2, 3) == -1.f);
  auto flat = v.flat();
  CHECK(flat[5] == 5.f);
  auto re = v.reshape<6, 4>();
  CHECK(re(5, 3) == -1.f);
  auto two_rows = re.rows<2>(3);
  STATIC_REQUIRE(std::is_same_v<decltype(two_rows), tensor_view<float, 2, 4>>);
  CHECK(two_rows(0, 0) == 12.f);
  // One head's columns of a fused (S, 3C) projection.
  auto head = columns<2>(re, 2);
  CHECK(head(1, 0) == 6.f);
  CHECK(head.ld() == 4);
  in<float, 2, 3, 4> ro = v;  // mutable -> read-only
  CHECK(ro.data() == v.data());
  auto ov = view_of(*t);
  STATIC_REQUIRE(std::is_same_v<decltype(ov), tensor_view<float, 2, 3, 4>>);
  fill(ov[0], 2.f);
  CHECK((*t)(0, 2, 3) == 2.f);
  CHECK((*t)(1, 0, 0) == 12.f);
}

namespace {

struct toy_block {
  tensor1<float, 4> ln_w;       // (C)
  tensor2<float, 4, 8> fc_w;    // (C, 2C)
  tensor1<float, 8> fc_b;       // (2C)
  static constexpr auto fields() {
    return std::tuple{field("ln.weight", &toy_block::ln_w, role::norm),
                      field("fc.weight", &toy_block::fc_w, role::weight, flag::hf_transposed),
                      field("fc.bias", &toy_block::fc_b, role::bias)};
  }
};

struct toy_model {
  tensor2<float, 10, 4> wte;    // (V, C)
  std::array<toy_block, 3> h;
  toy_block head;
  static constexpr auto fields() {
    return std::tuple{field("wte.weight", &toy_model::wte, role::embedding),
                      layers("h.", &toy_model::h), nested("head.", &toy_model::head)};
  }
};

}  // namespace

TEST_CASE("for_each_tensor names every tensor and walks pairs in lockstep", "[tensor]") {
  auto p = std::make_unique<toy_model>();
  auto g = std::make_unique<toy_model>();
  std::vector<std::string> names;
  std::vector<int> layers_seen;
  std::size_t count = 0;
  for_each_tensor(*p, [&](const tensor_info& info, auto& w) {
    names.push_back(info.str());
    layers_seen.push_back(info.layer);
    count += w.size();
  });
  REQUIRE(names.size() == 1 + 3 * 3 + 3);
  CHECK(names[0] == "wte.weight");
  CHECK(names[1] == "h.0.ln.weight");
  CHECK(names[5] == "h.1.fc.weight");
  CHECK(names.back() == "head.fc.bias");
  CHECK(layers_seen[0] == -1);
  CHECK(layers_seen[5] == 1);
  CHECK(layers_seen.back() == -1);
  CHECK(count == 40 + 4 * 44);
  CHECK(count_scalars(*p) == count);

  // Pairs: write w + 1 into the gradient, then check through the struct members.
  for_each_tensor(*p, [](const tensor_info&, auto& w) { w.fill(2.f); });
  for_each_tensor(*p, *g, [](const tensor_info& info, const auto& w, auto& dw) {
    for (std::size_t i = 0; i < w.size(); ++i) dw.data()[i] = w.data()[i] + (info.role == role::bias ? 10.f : 1.f);
  });
  CHECK(g->h[2].fc_w(3, 7) == 3.f);
  CHECK(g->h[2].fc_b(7) == 12.f);
  CHECK(g->wte(9, 3) == 3.f);

  // Roles and layout flags travel with the tensor.
  int transposed = 0, norms = 0;
  for_each_tensor(*p, [&](const tensor_info& info, auto&) {
    transposed += info.hf_transposed();
    norms += info.role == role::norm;
  });
  CHECK(transposed == 4);
  CHECK(norms == 4);
}

TEST_CASE("thread pool runs every task once and nests inline", "[tensor]") {
  for (unsigned n : {1u, 2u, 3u}) {
    thread_pool pool(n);
    REQUIRE(pool.size() == n);
    for (int round = 0; round < 50; ++round) {
      std::vector<std::atomic<int>> hits(37);
      std::atomic<int> nested{0}, bad{0};
      // Catch2 assertions are not thread-safe: record, then check on this thread.
      pool.parallel_for(hits.size(), [&](std::size_t t, unsigned thread) {
        if (thread >= n) bad++;
        hits[t]++;
        pool.parallel_for(3, [&](std::size_t, unsigned inner) {
          nested++;
          if (inner != thread) bad++;
        });
      });
      REQUIRE(bad.load() == 0);
      for (auto& h : hits) REQUIRE(h.load() == 1);
      REQUIRE(nested.load() == 37 * 3);
    }
    pool.resize(2);
    REQUIRE(pool.size() == 2);
  }
}
