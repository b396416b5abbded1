// Fuzzes the UTF-8 layer (base/utf8.hpp and the tokenizers' fast checker): validity agrees
// between the checkers, repair yields valid text, and valid text round-trips through code points.
#include <ctformer/data/tokenizers/input_check.hpp>
#include <ctformer/base/utf8.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  const std::string_view s = fuzz::as_view(data, size);
  return fuzz::run([&] {
    const std::size_t bad = utf8::first_invalid(s);
    fuzz::require(bad == detail::first_invalid_utf8(s), "utf8: the fast checker agrees with first_invalid");
    const std::string fixed = utf8::sanitize(s, utf8::on_invalid::replace);
    fuzz::require(utf8::valid(fixed), "utf8: sanitize(replace) is valid");
    if (bad == std::string_view::npos) {
      fuzz::require(fixed == s, "utf8: valid text is unchanged by sanitize");
      fuzz::require(utf8::encode(utf8::decode(s)) == s, "utf8: encode(decode(s)) == s");
    }
    const auto cps = utf8::decode(s, utf8::on_invalid::replace);
    fuzz::require(utf8::encode(cps) == fixed, "utf8: decode(replace) agrees with sanitize(replace)");
    std::string storage;
    (void)detail::checked_utf8(s, utf8::on_invalid::replace, storage, "fuzz");
    (void)utf8::sanitize(s, utf8::on_invalid::reject, "fuzz");  // throws ctformer::error when invalid
  });
}
