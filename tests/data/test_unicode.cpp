// Generated Unicode tables: categories, White_Space, case mappings, NFD with Hangul and
// canonical ordering, and the stated Unicode version.
#include <catch2/catch.hpp>

#include <ctformer/data/unicode/unicode.hpp>

namespace u = ctformer::unicode;
using cat = u::category;

TEST_CASE("unicode tables state their version and classify code points", "[data]") {
  CHECK(u::version == "15.0.0");
  CHECK(u::general_category(U'A') == cat::Lu);
  CHECK(u::general_category(U'z') == cat::Ll);
  CHECK(u::general_category(0x01C5) == cat::Lt);
  CHECK(u::general_category(0x4E2D) == cat::Lo);   // CJK (a UnicodeData range)
  CHECK(u::general_category(0xAC00) == cat::Lo);   // Hangul syllable range
  CHECK(u::general_category(0x0301) == cat::Mn);
  CHECK(u::general_category(U'7') == cat::Nd);
  CHECK(u::general_category(0x00BD) == cat::No);
  CHECK(u::general_category(U'-') == cat::Pd);
  CHECK(u::general_category(U'$') == cat::Sc);
  CHECK(u::general_category(0x1F600) == cat::So);
  CHECK(u::general_category(0x00A0) == cat::Zs);
  CHECK(u::general_category(0x2028) == cat::Zl);
  CHECK(u::general_category(0x0007) == cat::Cc);
  CHECK(u::general_category(0x200B) == cat::Cf);
  CHECK(u::general_category(0xE000) == cat::Co);
  CHECK(u::general_category(0xD800) == cat::Cs);
  CHECK(u::general_category(0x0378) == cat::Cn);
  CHECK(u::general_category(0x1FAF8) == cat::So);  // new in 15.0 (rightwards pushing hand)
  CHECK(u::general_category(0x10FFFF) == cat::Cn);
  CHECK(u::general_category(0x110000) == cat::Cn);
  CHECK(u::is_white_space(0x85));
  CHECK(u::is_white_space(0x3000));
  CHECK_FALSE(u::is_white_space(0x200B));
  CHECK_FALSE(u::is_white_space(0x1C));
  CHECK(u::is_extended_pictographic(0x1F600));
  CHECK_FALSE(u::is_extended_pictographic(U'a'));
}

TEST_CASE("unicode case mappings", "[data]") {
  CHECK(u::simple_lower(U'A') == U'a');
  CHECK(u::simple_lower(0x00C9) == 0x00E9);  // É
  CHECK(u::simple_lower(0x0100) == 0x0101);  // stride-2 run
  CHECK(u::simple_lower(0x0101) == 0x0101);
  CHECK(u::simple_lower(0x0391) == 0x03B1);  // Greek
  CHECK(u::simple_lower(0x0410) == 0x0430);  // Cyrillic
  CHECK(u::simple_lower(0xFF21) == 0xFF41);  // fullwidth
  CHECK(u::simple_lower(0x1E900) == 0x1E922);  // Adlam
  CHECK(u::simple_upper(0x00E9) == 0x00C9);
  CHECK(u::simple_upper(0x00DF) == 0x00DF);  // ß has no simple uppercase
  std::u32string s;
  u::append_lower(s, 0x130);
  CHECK(s == U"i\u0307");
}

TEST_CASE("unicode NFD decomposes fully, handles Hangul and orders marks", "[data]") {
  CHECK(u::nfd(U"\u00E9") == U"e\u0301");
  CHECK(u::nfd(U"\u1E69") == U"s\u0323\u0307");          // recursive decomposition
  CHECK(u::nfd(U"s\u0307\u0323") == U"s\u0323\u0307");   // canonical ordering (230 after 220)
  CHECK(u::nfd(U"\uAC01") == U"\u1100\u1161\u11A8");     // Hangul LVT
  CHECK(u::nfd(U"\uAC00") == U"\u1100\u1161");           // Hangul LV
  CHECK(u::nfd(U"\u212B") == U"A\u030A");                // Angstrom sign (singleton)
  CHECK(u::nfd(U"\uF900") == U"\u8C48");                 // CJK compatibility ideograph
  CHECK(u::nfd(U"\uFB01") == U"\uFB01");                 // ligature: compatibility only, untouched
  CHECK(u::nfd_utf8("caf\xC3\xA9") == "cafe\xCC\x81");
  CHECK(u::combining_class(0x0301) == 230);
  CHECK(u::combining_class(0x0323) == 220);
  CHECK(u::combining_class(U'a') == 0);
  CHECK(u::canonical_decomposition(U'a').empty());
  CHECK(u::canonical_decomposition(0x00C5) == U"A\u030A");
}
