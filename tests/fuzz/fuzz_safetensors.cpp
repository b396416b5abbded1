// Fuzzes the safetensors reader (io/safetensors.hpp) on whole files: an accepted file's tensors
// lie inside the buffer, tile it, and every element can be read.
#include <ctformer/io/weights.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  return fuzz::run([&] {
    std::vector<char> bytes(data, data + size);
    const auto f = safetensors::file::parse(std::move(bytes), "fuzz.safetensors");
    std::size_t total = 0;
    for (const auto& t : f.tensors()) {
      std::size_t n = 0;
      fuzz::require(safetensors::checked_elements(t.shape, n), "safetensors: element count fits");
      fuzz::require(n * safetensors::dtype_size(t.type) == t.end - t.begin, "safetensors: span matches shape");
      double sum = 0;
      for (std::size_t i = 0; i < n; ++i) sum += detail::element(f.data(t), t.type, i);
      (void)sum;
      total += t.end - t.begin;
    }
    fuzz::require(total <= size, "safetensors: tensors fit in the file");
  });
}
