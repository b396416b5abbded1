// A "firmware" build of a trained model: the weights are compiled in (model_fp32.hpp or
// model_int8.hpp, written by firmware_make_model) and read where the linker put them (flash on a
// microcontroller) through a params_view; the program continues its prompt greedily with no file
// system and no heap - operator new aborts here. It checks its tokens against the ones the
// in-memory model produced before export (a full forward per token there; here a one-row KV
// cache, whose logits equal the full forward's bit for bit, fp32 or int8, so it needs the cache's
// RAM instead of a full workspace). Built for the host and, with cmake/toolchains/cortex-m*.cmake,
// for a Cortex-M board under qemu; exits 0 only on a match.
#include "firmware_model.hpp"  // first: it sizes the kernels' scratch on a microcontroller

#include <cstdio>
#include <cstdlib>
#include <new>
#include <span>

#include <ctformer/deploy/exported.hpp>

#include "no_heap.hpp"

// On the MPS2 boards (cmake/embedded), instructions per generated token under qemu -icount.
#if CTFORMER_FIRMWARE_ICOUNT
#include "icount.hpp"
#define CTFORMER_ICOUNT_TICKS() ctformer_icount::ticks()
#else
#define CTFORMER_ICOUNT_TICKS() std::uint64_t(0)
#endif

#include <ctformer/deploy/kv_cache.hpp>
#if CTFORMER_FIRMWARE_INT8
#include <ctformer/deploy/quantize.hpp>

#include "model_int8.hpp"
using model_t = ctformer::quantized_lm<firmware::model>;
#else
#include "model_fp32.hpp"
using model_t = firmware::model;
#endif


namespace {
model_t::params_view weights;  // one pointer per tensor; the weights stay in flash
constexpr std::size_t n_prompt = sizeof(firmware_weights::prompt) / sizeof(std::int32_t);
constexpr std::size_t n_expected = sizeof(firmware_weights::expected) / sizeof(std::int32_t);

std::uint64_t decode_ticks = 0;  // ticks of the generated tokens only (no prompt)
double decode_flops = 0;         // model FLOPs of those tokens

// One position per pass: the smallest buffers. Static storage starts zeroed, as the cache needs.
using cache_t = ctformer::kv_cache<model_t, 1, 1>;
cache_t cache;

// RAM is a compile-time figure: the cache (keys and values of the whole context, one pass's
// buffers), the kernels' scratch and the stack and heap the link reserves (CMakeLists.txt).
#if !defined(CTFORMER_FIRMWARE_STACK_BYTES)
#define CTFORMER_FIRMWARE_STACK_BYTES 0
#define CTFORMER_FIRMWARE_HEAP_BYTES 0
#endif
constexpr std::size_t ram_bytes = cache_t::bytes() + ctformer::thread_pool::scratch_bytes + sizeof(weights) +
                                  CTFORMER_FIRMWARE_STACK_BYTES + CTFORMER_FIRMWARE_HEAP_BYTES;
#if defined(CTFORMER_BARE_METAL)
static_assert(ram_bytes <= 64 * 1024, "firmware: generation needs more than the 64 KiB RAM budget");
#endif

std::int32_t argmax(const float* row) {
  std::int32_t best = 0;
  for (std::int32_t v = 1; v < std::int32_t(firmware::cfg.vocab); ++v)
    if (row[v] > row[best]) best = v;
  return best;
}

// The prompt in one go, then one cached position per token; a token at position p costs
// forward_flops_per_token(p + 1) (attention over the p + 1 cached positions).
void generate(std::int32_t* out) {
  const float* logits = ctformer::extend<model_t>(weights, cache, 0, std::span(firmware_weights::prompt, n_prompt));
  const std::uint64_t t0 = CTFORMER_ICOUNT_TICKS();
  out[0] = argmax(logits);
  for (std::size_t t = 1; t < n_expected && n_prompt + t < firmware::window; ++t) {
    logits = ctformer::extend<model_t>(weights, cache, 0, std::span(out + t - 1, 1));
    decode_flops += firmware::model::forward_flops_per_token(n_prompt + t);
    out[t] = argmax(logits);
  }
  decode_ticks = CTFORMER_ICOUNT_TICKS() - t0;
}
}  // namespace

int main() {
#if CTFORMER_FIRMWARE_ICOUNT
  ctformer_icount::start();
  const double per_tick = ctformer_icount::calibrate();
#endif
  ctformer::bind_exported(weights, firmware_weights::tensors);
  std::int32_t out[n_expected];
  generate(out);
  std::printf("%s\n", firmware_weights::description);
  for (std::size_t i = 0; i < n_prompt; ++i) std::putchar(firmware::alphabet[std::size_t(firmware_weights::prompt[i])]);
  std::printf("|");
  bool same = true;
  for (std::size_t i = 0; i < n_expected; ++i) {
    std::putchar(firmware::alphabet[std::size_t(out[i])]);
    same = same && out[i] == firmware_weights::expected[i];
  }
#if CTFORMER_FIRMWARE_ICOUNT
  // n_expected - 1 cached tokens are decoded after the prompt's logits.
  const double tokens = double(n_expected - 1);
  const double instructions = double(decode_ticks) * per_tick;
  // Integers only: newlib-nano's printf has no floating point.
  const unsigned long per_flop_x100 = (unsigned long)(100.0 * instructions / decode_flops + 0.5);
  std::printf("\ninstructions per generated token: %lu (%lu.%02lu per model FLOP; valid under qemu -icount shift=0)",
              (unsigned long)(instructions / tokens + 0.5), per_flop_x100 / 100, per_flop_x100 % 100);
#endif
  std::printf("\nRAM by the compile-time figure: %lu bytes (cache %lu, scratch %lu, stack and heap %lu)",
              (unsigned long)ram_bytes, (unsigned long)cache_t::bytes(),
              (unsigned long)ctformer::thread_pool::scratch_bytes,
              (unsigned long)(CTFORMER_FIRMWARE_STACK_BYTES + CTFORMER_FIRMWARE_HEAP_BYTES));
  std::printf("\n%s\n", same ? "firmware output matches the in-memory model token for token"
                             : "FIRMWARE OUTPUT DIFFERS FROM THE IN-MEMORY MODEL");
  return same ? 0 : 1;
}
