// Text cleaning steps, each alone and chained.
#include <catch2/catch.hpp>

#include <ctformer/data/cleaning.hpp>

namespace c = ctformer::cleaning;

TEST_CASE("cleaning: lowercase and accents are Unicode-aware", "[data]") {
  CHECK(c::lowercase("HeLLo \xC3\x89" "COLE \xCE\x91\xCE\x92\xCE\x93 \xD0\x94") == "hello \xC3\xA9""cole \xCE\xB1\xCE\xB2\xCE\xB3 \xD0\xB4");
  CHECK(c::lowercase("\xC4\xB0") == "i\xCC\x87");  // İ -> i + combining dot
  CHECK(c::strip_accents("caf\xC3\xA9 na\xC3\xAFve \xC3\x85ngstr\xC3\xB6m") == "cafe naive Angstrom");
  CHECK(c::strip_accents("\xEA\xB0\x80") == "\xE1\x84\x80\xE1\x85\xA1");  // Hangul decomposes to jamo (no Mn)
}

TEST_CASE("cleaning: HTML, controls, emoji and symbols, whitespace", "[data]") {
  // &nbsp; decodes to U+00A0, which is White_Space and so becomes a plain space.
  CHECK(c::normalize_whitespace(c::strip_html("<p>Hello&nbsp;<b>world</b> &amp; co&#39;s<br/>x</p>")) ==
        "Hello world & co's x");
  CHECK(c::normalize_whitespace(c::strip_html("a<script>var x = '<p>';</script>b<style>p{}</style>c<!-- hidden -->d")) == "a b cd");  // a comment vanishes
  CHECK(c::strip_html("1 < 2 and 3 > 2 &unknown; &#x41;") == "1 < 2 and 3 > 2  A");
  CHECK(c::remove_control("a\x01" "b\tc\xE2\x80\x8B" "d\x7F") == "ab\tcd");
  CHECK(c::remove_symbols("ok \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD fine \xE2\x9D\xA4\xEF\xB8\x8F $5 \xE2\x82\xAC") == "ok  fine  $5 \xE2\x82\xAC");
  CHECK(c::remove_symbols("ok \xF0\x9F\x91\x8D $5 \xE2\x82\xAC 1+1", c::symbols::all) == "ok  5  11");
  CHECK(c::normalize_whitespace("  a \t\n b\xE3\x80\x80" "c  ") == "a b c");
}

TEST_CASE("cleaning: contractions and stop words", "[data]") {
  CHECK(c::expand_contractions("I don't know, you can't say it's what we'd do. Won't they?") ==
        "I do not know, you cannot say it is what we would do. Will not they?");
  CHECK(c::expand_contractions("They\xE2\x80\x99re here; John's car") == "They are here; John's car");
  const c::stop_words stops = {"the", "a", "of"};
  CHECK(c::remove_stop_words("The end of a story, the end.", stops) == "end story, end.");
}

TEST_CASE("cleaning: the chained pipeline and invalid UTF-8", "[data]") {
  c::options o;
  o.html = true;
  o.lowercase = true;
  o.accents = true;
  o.contractions = true;
  o.remove_symbols = c::symbols::emoji;
  const c::stop_words stops = {"is"};
  o.stops = &stops;
  CHECK(c::clean("<i>Caf\xC3\xA9</i> isn't   OPEN \xF0\x9F\x98\x80\n", o) == "cafe not open");
  CHECK_THROWS_WITH(c::clean("ok\xC3(", o, "review 7"), "invalid UTF-8 at byte offset 2 in review 7 (byte 0xC3)");
  o.on_invalid = ctformer::utf8::on_invalid::replace;
  CHECK(c::clean("ok\xC3(", o) == "ok\xEF\xBF\xBD(");
}
