// expect: tensor shapes differ
// A layer handed the encoder's (B*S, 64) output where its width is 32 does not compile.
#include <ctformer/layers/linear.hpp>

int main() {
  static ctformer::tensor2<float, 16, 64> enc;      // (B*S, 64)
  static ctformer::tensor2<float, 16, 32> y;        // (B*S, 32)
  static ctformer::linear_params<float, 32, 32> p;  // expects inputs of width 32
  ctformer::linear_forward<float, 16, 32, 32>(ctformer::view_of(y), ctformer::view_of(enc), p);
}
