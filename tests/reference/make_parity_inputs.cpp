// Writes the inputs of the PyTorch parity check: each model's initial weights (Hugging Face
// names and layouts) and a batch with padding, as tests/reference/fixtures/<model>_inputs.safetensors.
// Run once, then run torch_models.py to write <model>_expected.safetensors. Both are committed.
//   build/tests/make_parity_inputs tests/reference/fixtures
#include <ctformer/io/weights.hpp>
#include <ctformer/models/init.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "parity/parity_models.hpp"

using namespace ctformer;
using namespace ctformer::parity;

namespace {

template <class Tensor>
void add_int(safetensors::writer& w, const std::string& name, const Tensor& t) {
  w.add(name, safetensors::dtype::I32, std::vector<std::size_t>(t.shape().begin(), t.shape().end()), t.data());
}

template <class P>
void perturb_norms(P& p, std::uint64_t seed) {
  // LayerNorm scales and all biases away from 1 and 0, so the check exercises them.
  rng r(seed);
  for_each_tensor(p, [&](const tensor_info& info, auto& t) {
    if (info.role == role::norm || info.role == role::bias)
      for (auto& v : t) v += float(0.1 * r.normal());
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "tests/reference/fixtures";
  rng r(2024);
  {
    using M = gpt_model<>;
    auto p = std::make_unique<M::params>();
    initialize(*p, init_scheme::gpt2, 0.1, M::L, 1);
    perturb_norms(*p, 11);
    auto b = std::make_unique<token_batch<B, S>>();
    for (std::size_t i = 0; i < B; ++i)
      for (std::size_t s = 0; s < S; ++s) {
        const bool real = i == 0 || s < 7;
        b->ids(i, s) = std::int32_t(r.below(M::V));
        b->targets(i, s) = real ? std::int32_t(r.below(M::V)) : ignore_index;
        b->attention_mask(i, s) = real;
        b->token_type(i, s) = 0;
      }
    safetensors::writer w;
    add_weights(w, *p);
    add_int(w, "input.ids", b->ids);
    add_int(w, "input.targets", b->targets);
    add_int(w, "input.attention_mask", b->attention_mask);
    w.save(dir + "/gpt_inputs.safetensors");
  }
  {
    using M = bert_model<>;
    auto p = std::make_unique<M::params>();
    initialize(*p, init_scheme::normal, 0.1, M::L, 2);
    perturb_norms(*p, 12);
    auto b = std::make_unique<token_batch<B, S>>();
    for (std::size_t i = 0; i < B; ++i)
      for (std::size_t s = 0; s < S; ++s) {
        const bool real = i == 0 || s < 6;
        b->ids(i, s) = std::int32_t(r.below(M::V));
        b->targets(i, s) = (real && r.uniform() < 0.4) ? std::int32_t(r.below(M::V)) : ignore_index;
        b->attention_mask(i, s) = real;
        b->token_type(i, s) = s >= 5 ? 1 : 0;
      }
    b->targets(0, 0) = 3;  // at least one target per row
    b->targets(1, 1) = 4;
    safetensors::writer w;
    add_weights(w, *p);
    add_int(w, "input.ids", b->ids);
    add_int(w, "input.targets", b->targets);
    add_int(w, "input.attention_mask", b->attention_mask);
    add_int(w, "input.token_type", b->token_type);
    w.save(dir + "/bert_inputs.safetensors");
  }
  {
    using M = s2s_model<>;
    auto p = std::make_unique<M::params>();
    initialize(*p, init_scheme::xavier_uniform, 0.1, 2, 3);
    perturb_norms(*p, 13);
    auto b = std::make_unique<seq2seq_batch<B, Ss, St>>();
    for (std::size_t i = 0; i < B; ++i) {
      for (std::size_t s = 0; s < Ss; ++s) {
        b->src_ids(i, s) = std::int32_t(r.below(M::Vs));
        b->src_mask(i, s) = i == 0 || s < 5;
      }
      for (std::size_t s = 0; s < St; ++s) {
        const bool real = i == 0 || s < 4;
        b->tgt_in(i, s) = std::int32_t(r.below(M::Vt));
        b->tgt_out(i, s) = real ? std::int32_t(r.below(M::Vt)) : ignore_index;
        b->tgt_mask(i, s) = real;
      }
    }
    safetensors::writer w;
    add_weights(w, *p);
    add_int(w, "input.src_ids", b->src_ids);
    add_int(w, "input.src_mask", b->src_mask);
    add_int(w, "input.tgt_in", b->tgt_in);
    add_int(w, "input.tgt_out", b->tgt_out);
    add_int(w, "input.tgt_mask", b->tgt_mask);
    w.save(dir + "/s2s_inputs.safetensors");
  }
  std::printf("wrote gpt, bert and s2s inputs to %s\n", dir.c_str());
}
