// Fuzzes text cleaning (data/cleaning.hpp): every step alone and the pipeline with options from
// the first byte. Each step keeps valid UTF-8 valid.
#include <ctformer/data/cleaning.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  if (size == 0) return 0;
  const unsigned char b = data[0];
  const std::string_view raw = fuzz::as_view(data + 1, size - 1);
  return fuzz::run([&] {
    static const cleaning::stop_words stops{"the", "a", "an", "and", "of"};
    cleaning::options o;
    o.html = b & 1;
    o.control = b & 2;
    o.remove_symbols = b & 4 ? (b & 8 ? cleaning::symbols::all : cleaning::symbols::emoji) : cleaning::symbols::keep;
    o.contractions = b & 16;
    o.lowercase = b & 32;
    o.accents = b & 64;
    o.stops = b & 128 ? &stops : nullptr;
    o.on_invalid = utf8::on_invalid::replace;
    const std::string s = cleaning::clean(raw, o, "fuzz input");
    fuzz::require(utf8::valid(s), "cleaning: the pipeline returns valid UTF-8");
    const std::string text = utf8::sanitize(raw, utf8::on_invalid::replace);
    for (const std::string& r : {cleaning::lowercase(text), cleaning::strip_accents(text), cleaning::remove_control(text),
                                 cleaning::remove_symbols(text, cleaning::symbols::all), cleaning::normalize_whitespace(text),
                                 cleaning::strip_html(text), cleaning::expand_contractions(text),
                                 cleaning::remove_stop_words(text, stops)})
      fuzz::require(utf8::valid(r), "cleaning: each step returns valid UTF-8");
    (void)cleaning::clean(raw, {}, "fuzz input");  // rejects invalid UTF-8 with ctformer::error
  });
}
