// expect: tensor shapes differ
// Binding a view to an owning tensor of another shape must not compile.
#include <ctformer/tensor/tensor.hpp>

int main() {
  static ctformer::tensor2<float, 4, 8> w;
  ctformer::out<float, 8, 4> v = w;
  (void)v;
}
