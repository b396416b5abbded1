// mlm_sparse: the MLM head run only where there is a target gives the dense mlm head's loss and
// every gradient (same parameters), passes a central-difference check in double, and shares the
// dense head's tensor names so weights interchange.
#include <catch2/catch.hpp>

#include <ctformer/models/encoder.hpp>
#include <ctformer/models/init.hpp>

#include <memory>
#include <string>
#include <vector>

#include "support/gradcheck.hpp"

using namespace ctformer;

namespace {

constexpr std::size_t B = 2, S = 6;

template <bert_config Cfg>
void compare(double smoothing, unsigned seed) {
  using dense = encoder<Cfg, mlm, double>;
  using sparse = encoder<Cfg, mlm_sparse, double>;
  auto batch = std::make_unique<token_batch<B, S>>();
  rng r(seed);
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t s = 0; s < S; ++s) {
      batch->ids(i, s) = std::int32_t(r.below(Cfg.vocab));
      batch->attention_mask(i, s) = (i == 0 || s < 4) ? 1 : 0;
      batch->token_type(i, s) = 0;
      batch->targets(i, s) = (batch->attention_mask(i, s) && r.below(3) == 0) ? std::int32_t(r.below(Cfg.vocab))
                                                                               : ignore_index;
    }
  batch->targets(1, 1) = 3;  // at least one target
  auto pd = std::make_unique<typename dense::params>();
  auto ps = std::make_unique<typename sparse::params>();
  initialize(*pd, init_scheme::normal, 0.3, Cfg.layers, seed);
  ps->body = pd->body;
  ps->head = pd->head;  // the same head parameter type
  auto gd = std::make_unique<typename dense::params>();
  auto gs = std::make_unique<typename sparse::params>();
  zero(*gd);
  zero(*gs);
  auto wd = std::make_unique<typename dense::template workspace<B, S>>();
  auto wsp = std::make_unique<typename sparse::template workspace<B, S>>();
  const auto ld = dense::forward_loss(*pd, *wd, *batch, run_mode::eval(), smoothing);
  const auto ls = sparse::forward_loss(*ps, *wsp, *batch, run_mode::eval(), smoothing);
  REQUIRE(ls.count == ld.count);
  REQUIRE(ls.loss == Approx(ld.loss).epsilon(1e-12));
  dense::backward(*pd, *gd, *wd, *batch, ld, run_mode::eval(), smoothing);
  sparse::backward(*ps, *gs, *wsp, *batch, ls, run_mode::eval(), smoothing);
  std::vector<std::string> names_d, names_s;
  for_each_tensor(*gd, [&](const tensor_info& info, const auto&) { names_d.push_back(info.str()); });
  for_each_tensor(*gs, [&](const tensor_info& info, const auto&) { names_s.push_back(info.str()); });
  REQUIRE(names_d == names_s);
  std::size_t k = 0;
  std::vector<const double*> dd;
  std::vector<std::size_t> sizes;
  for_each_tensor(*gd, [&](const tensor_info&, const auto& t) {
    dd.push_back(t.data());
    sizes.push_back(t.size());
  });
  for_each_tensor(*gs, [&](const tensor_info& info, const auto& t) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      INFO(info.str() << "[" << i << "]");
      REQUIRE(t.data()[i] == Approx(dd[k][i]).margin(1e-12).epsilon(1e-10));
    }
    ++k;
  });
  // And directly against central differences.
  auto rep = testing::check_gradients(*ps, *gs, [&] {
    return sparse::forward_loss(*ps, *wsp, *batch, run_mode::eval(), smoothing).loss;
  });
  INFO("worst " << rep.worst << " at " << rep.where);
  REQUIRE(rep.worst <= 1.0);
}

constexpr bert_config post_tied{.vocab = 13, .context = 6, .d_model = 8, .heads = 2, .d_ff = 12, .layers = 2};
constexpr bert_config pre_untied{.vocab = 11, .context = 6, .d_model = 8, .heads = 2, .d_ff = 12, .layers = 1,
                                 .norm = norm_placement::pre, .tied_head = false};

}  // namespace

TEST_CASE("mlm_sparse gives the dense MLM head's loss and gradients", "[grad]") {
  compare<post_tied>(0.0, 3);
  compare<post_tied>(0.1, 4);
  compare<pre_untied>(0.0, 5);
}
