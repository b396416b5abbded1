// expect: tensor shapes differ
// A (64, 256) activation handed to a layer that expects (64, 128) must not compile.
#include <ctformer/tensor/tensor.hpp>

void takes_rows_of_128(ctformer::in<float, 64, 128>) {}

int main() {
  static ctformer::tensor2<float, 64, 256> x;
  takes_rows_of_128(ctformer::view_of(x));
}
