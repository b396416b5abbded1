// A "firmware" build of a trained model: the weights are compiled in (model_fp32.hpp or
// model_int8.hpp, written by firmware_make_model), copied into static storage, and the program
// continues its prompt greedily with no file system and no heap - operator new aborts here. It
// checks its tokens against the ones the in-memory model produced before export.
#include <cstdio>
#include <cstdlib>
#include <new>

#include <ctformer/deploy/exported.hpp>

#include "firmware_model.hpp"

#if CTFORMER_FIRMWARE_INT8
#include <ctformer/deploy/quantize.hpp>

#include "model_int8.hpp"
using model_t = ctformer::quantized_lm<firmware::model>;
#else
#include "model_fp32.hpp"
using model_t = firmware::model;
#endif

[[noreturn]] void no_heap() {
  std::fputs("firmware: heap allocation attempted\n", stderr);
  std::abort();
}
void* operator new(std::size_t) { no_heap(); }
void* operator new[](std::size_t) { no_heap(); }
void* operator new(std::size_t, std::align_val_t) { no_heap(); }
void* operator new[](std::size_t, std::align_val_t) { no_heap(); }
void operator delete(void*) noexcept {}
void operator delete[](void*) noexcept {}
void operator delete(void*, std::size_t) noexcept {}
void operator delete[](void*, std::size_t) noexcept {}
void operator delete(void*, std::align_val_t) noexcept {}
void operator delete[](void*, std::align_val_t) noexcept {}
void operator delete(void*, std::size_t, std::align_val_t) noexcept {}
void operator delete[](void*, std::size_t, std::align_val_t) noexcept {}

namespace {
model_t::params weights;                                    // static storage
model_t::workspace<1, firmware::window> ws;
ctformer::token_batch<1, firmware::window> batch;
constexpr std::size_t n_prompt = sizeof(firmware_weights::prompt) / sizeof(std::int32_t);
constexpr std::size_t n_expected = sizeof(firmware_weights::expected) / sizeof(std::int32_t);
}  // namespace

int main() {
  ctformer::load_exported(weights, firmware_weights::tensors);
  std::int32_t out[n_expected];
  firmware::greedy<model_t>(weights, ws, batch, firmware_weights::prompt, n_prompt, n_expected, out);
  std::printf("%s\n", firmware_weights::description);
  for (std::size_t i = 0; i < n_prompt; ++i) std::putchar(firmware::alphabet[std::size_t(firmware_weights::prompt[i])]);
  std::printf("|");
  bool same = true;
  for (std::size_t i = 0; i < n_expected; ++i) {
    std::putchar(firmware::alphabet[std::size_t(out[i])]);
    same = same && out[i] == firmware_weights::expected[i];
  }
  std::printf("\n%s\n", same ? "firmware output matches the in-memory model token for token"
                             : "FIRMWARE OUTPUT DIFFERS FROM THE IN-MEMORY MODEL");
  return same ? 0 : 1;
}
