// Fuzzes loading safetensors into a small GPT-2-shaped model (io/weights.hpp): names, dtypes,
// shapes, transposes, prefixes. The first byte picks the options; the rest is the file.
#include <ctformer/io/weights.hpp>
#include <ctformer/models/decoder_lm.hpp>

#include "fuzz_common.hpp"

namespace {
constexpr ctformer::gpt_config tiny{.vocab = 17, .context = 8, .d_model = 8, .heads = 2, .d_ff = 16, .layers = 2};
using gpt = ctformer::decoder_lm<tiny>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  if (size == 0) return 0;
  static auto params = std::make_unique<gpt::params>();
  return fuzz::run([&] {
    load_options o;
    o.layout = data[0] & 1 ? weight_layout::native : weight_layout::huggingface;
    o.allow_unexpected = data[0] & 2;
    o.validate_only = data[0] & 4;
    if (data[0] & 8) o.only = {"h.0."};
    std::vector<char> bytes(data + 1, data + size);
    const auto f = safetensors::file::parse(std::move(bytes), "fuzz.safetensors");
    load_weights(f, *params, o);
  });
}
