// Fuzzes the darts-clone double-array reader (tokenizers/double_array.hpp) on raw units: the
// walks are bounds-checked even on an unchecked array; check_tree() must reject any array on
// which a walk could run longer than its longest key, and entries() must agree with lookups.
#include <ctformer/data/tokenizers/double_array.hpp>

#include <cstring>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  using ctformer::detail::double_array;
  return fuzz::run([&] {
    std::vector<std::uint32_t> units(size / 4);
    if (!units.empty()) std::memcpy(units.data(), data, units.size() * 4);
    const std::string_view tail = fuzz::as_view(data + units.size() * 4, size % 4);
    const double_array da(std::move(units));
    // Unchecked: every walk stays in bounds.
    const std::string text = std::string(tail) + "\x01\x02" "abc\x00\xFF" "abc";
    for (std::size_t i = 0; i < text.size(); ++i) {
      da.common_prefix_search(std::string_view(text).substr(i), [&](std::size_t len, std::uint32_t) {
        fuzz::require(len <= text.size() - i, "double array: a match stays inside the text");
      }, 32);
      (void)da.exact_match(std::string_view(text).substr(i));
    }
    const auto facts = da.check_tree("fuzz double array");
    // Checked: the walk from any position ends within the longest key.
    std::size_t walked = 0;
    da.common_prefix_search(text, [&](std::size_t len, std::uint32_t v) {
      walked = len;
      fuzz::require(v <= facts.max_value, "double array: values bounded by check_tree");
    });
    fuzz::require(walked <= facts.longest_key, "double array: matches no longer than the longest key");
    for (const auto& [key, value] : da.entries(4096)) {
      fuzz::require(key.size() <= facts.longest_key, "double array: keys no longer than the longest key");
      (void)value;
    }
  });
}
