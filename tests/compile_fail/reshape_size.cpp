// expect: reshape must keep the number of elements
#include <ctformer/tensor/tensor.hpp>

int main() {
  static ctformer::tensor2<float, 4, 8> w;
  auto v = ctformer::view_of(w).reshape<3, 10>();
  (void)v;
}
