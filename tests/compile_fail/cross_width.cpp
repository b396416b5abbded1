// expect: tensor shapes differ
// The decoder's cross-attention block handed an encoder output of width 64 where the block's
// width is 32 does not compile: the real call seq2seq makes (layers/block.hpp's cross
// block_forward) takes the encoder output as a typed (B Ssrc, C) view.
#include <ctformer/layers/block.hpp>

using spec = ctformer::block_spec<float, 2, 4, 32, 64, 4, ctformer::norm_placement::pre, ctformer::activation::relu,
                                  true, true, 6, false>;

int main() {
  static ctformer::block_params<float, 32, 64, ctformer::family::bart, true> p;
  static ctformer::block_cache<spec> c;
  static ctformer::tensor2<float, 8, 32> x, y;     // (B*S, C)
  static ctformer::tensor2<float, 12, 64> enc;     // (B*Ssrc, 64): the wrong width
  ctformer::block_forward<spec, ctformer::family::bart>(y.data(), x.data(), p, c, ctformer::view_of(enc), {}, 0.0f,
                                                        1e-5f);
}
