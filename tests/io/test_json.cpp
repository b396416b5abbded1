// The JSON reader and writer: round trips, escapes, surrogate pairs and precise errors.
#include <catch2/catch.hpp>

#include <ctformer/io/json.hpp>

using ctformer::json::value;

TEST_CASE("json parses, keeps key order and writes back", "[io]") {
  const auto v = value::parse(R"({"b": [1, 2.5, -3e2, true, null], "a": {"x": "y\n\"z\""}})");
  REQUIRE(v.is_object());
  CHECK(v.as_object()[0].first == "b");
  CHECK(v.at("b").at(1).as_number() == 2.5);
  CHECK(v.at("b").at(2).as_int() == -300);
  CHECK(v.at("b").at(3).as_bool());
  CHECK(v.at("b").at(4).is_null());
  CHECK(v.at("a").at("x").as_string() == "y\n\"z\"");
  CHECK(v.dump() == R"({"b":[1,2.5,-300,true,null],"a":{"x":"y\n\"z\""}})");
  CHECK(value::parse(v.dump(2)).dump() == v.dump());
}

TEST_CASE("json decodes \\u escapes and surrogate pairs to UTF-8", "[io]") {
  CHECK(value::parse(R"("\u00e9\u20ac\ud83d\ude00")").as_string() == "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  CHECK(value::parse("\"caf\xC3\xA9\"").as_string() == "caf\xC3\xA9");
}

TEST_CASE("json errors name the line and column", "[io]") {
  auto msg = [](const char* text) {
    try {
      value::parse(text);
    } catch (const ctformer::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg("{\"a\": 1,\n \"b\" 2}") == "json: expected ':' at line 2, column 6");
  CHECK(msg("[1, 2") == "json: expected ',' or ']' at line 1, column 6");
  CHECK(msg(R"("\ud83d")") == "json: unpaired high surrogate at line 1, column 8");
  CHECK(msg("\"abc") == "json: unterminated string at line 1, column 5");
  CHECK(msg("[1] x") == "json: unexpected text after the JSON value at line 1, column 5");
  CHECK_THROWS_WITH(value::parse("1.5").as_int(), "json: expected an integer, found 1.5");
  CHECK_THROWS_WITH(value::parse("{}").at("k"), "json: missing key \"k\"");
}
