// Fuzzes the strict JSON reader (io/json.hpp), which reads safetensors headers, encoder.json and
// checkpoints: any accepted document must dump and read back to the same text.
#include <ctformer/io/json.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return ctformer::fuzz::run([&] {
    const auto v = ctformer::json::value::parse(ctformer::fuzz::as_view(data, size));
    const std::string once = v.dump();
    const std::string twice = ctformer::json::value::parse(once).dump();
    ctformer::fuzz::require(once == twice, "json: dump(parse(dump(v))) == dump(v)");
    (void)v.dump(2);
  });
}
