// Strict UTF-8 validation, byte offsets in errors, and U+FFFD repair by maximal subpart.
#include <catch2/catch.hpp>

#include <ctformer/base/utf8.hpp>

namespace u = ctformer::utf8;

TEST_CASE("utf8 decodes valid text and rejects malformed bytes with their offset", "[data]") {
  CHECK(u::decode("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == U"a\u00e9\u20ac\U0001F600");
  CHECK(u::valid("plain"));
  CHECK(u::first_invalid("ab\xC0\xAF") == 2);        // overlong '/'
  CHECK(u::first_invalid("\xED\xA0\x80") == 0);      // surrogate
  CHECK(u::first_invalid("ok\xF4\x90\x80\x80") == 2);  // above U+10FFFF
  CHECK(u::first_invalid("x\xE2\x82") == 1);         // truncated
  CHECK_THROWS_WITH(u::sanitize("abc\xFFz", u::on_invalid::reject, "corpus.txt line 3"),
                    "invalid UTF-8 at byte offset 3 in corpus.txt line 3 (byte 0xFF)");
}

TEST_CASE("utf8 replacement uses one U+FFFD per maximal invalid subpart", "[data]") {
  CHECK(u::sanitize("a\xE2\x82z", u::on_invalid::replace) == "a\xEF\xBF\xBDz");
  CHECK(u::sanitize("\xFF\xFE", u::on_invalid::replace) == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(u::sanitize("\xF0\x9F\x98", u::on_invalid::replace) == "\xEF\xBF\xBD");
  CHECK(u::encode(u::decode("\xC3\xA9", u::on_invalid::replace)) == "\xC3\xA9");
}
