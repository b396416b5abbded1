// Datasets and their bad input: TSV classification/regression/pairs (missing or malformed
// label columns name the line), empty files, invalid UTF-8; the LM stream and seq2seq batches.
#include <catch2/catch.hpp>

#include <ctformer/data/datasets.hpp>
#include <ctformer/data/tokenizers/byte.hpp>

#include "data_test_util.hpp"
#include "support/test_support.hpp"

using namespace ctformer;
using ctformer::testing::temp_file;

TEST_CASE("classification TSV: the shared sets load with the right counts", "[data]") {
  CTFORMER_REQUIRE_DATA(imdb, "sentiment/imdb_labelled.txt");
  CTFORMER_REQUIRE_DATA(sms, "sms-spam/SMSSpamCollection");
  const auto a = load_classification_tsv(imdb.string());
  CHECK(a.texts.size() == 1000);
  CHECK(std::count(a.labels.begin(), a.labels.end(), 1) == 500);
  CHECK(a.label_names.empty());
  CHECK(a.texts[0] == "A very, very, very slow-moving, aimless movie about a distressed, drifting young man.  ");
  tsv_options o;
  o.label_column = tsv_options::label_at::first;
  const auto b = load_classification_tsv(sms.string(), o);
  CHECK(b.texts.size() == 5574);
  CHECK(b.label_names == std::vector<std::string>{"ham", "spam"});
  CHECK(std::count(b.labels.begin(), b.labels.end(), 1) == 747);
  CHECK(b.class_count() == 2);
}

TEST_CASE("classification TSV bad input names the file and line", "[data]") {
  CHECK_THROWS_WITH(parse_classification_tsv("good\t1\nno label here\n", "s.tsv"),
                    "s.tsv line 2: missing label column (expected a tab-separated text<TAB>label)");
  tsv_options ints_only;
  ints_only.names_from_data = false;
  CHECK_THROWS_WITH(parse_classification_tsv("good\t1\nbad\tx1\n", "s.tsv", ints_only),
                    "s.tsv line 2: malformed label \"x1\" (expected an integer class index)");
  CHECK_THROWS_WITH(parse_classification_tsv("good\t1\nbad\t-3\n", "s.tsv"),
                    "s.tsv line 2: malformed label \"-3\" (expected an integer class index)");
  CHECK_THROWS_WITH(parse_classification_tsv("good\t1\nbad\t\n", "s.tsv"), "s.tsv line 2: empty label column");
  tsv_options named;
  named.label_names = {"neg", "pos"};
  CHECK_THROWS_WITH(parse_classification_tsv("a\tpos\nb\tneutral\n", "s.tsv", named),
                    "s.tsv line 2: unknown label \"neutral\" (known: neg, pos)");
  CHECK_THROWS_WITH(parse_classification_tsv("a\t1\nb\xFF\t0\n", "s.tsv"),
                    "invalid UTF-8 at byte offset 1 in s.tsv line 2 (byte 0xFF)");
  tsv_options repl;
  repl.on_invalid = utf8::on_invalid::replace;
  CHECK(parse_classification_tsv("a\t1\nb\xFF\t0\n", "s.tsv", repl).texts[1] == "b\xEF\xBF\xBD");
  CHECK_THROWS_WITH(parse_classification_tsv("", "s.tsv"), "'s.tsv' is an empty file");
  CHECK_THROWS_WITH(parse_classification_tsv("\n\n", "s.tsv"), "s.tsv: no examples");
  const std::string empty = temp_file("empty.tsv", "");
  CHECK_THROWS_WITH(load_classification_tsv(empty), "'" + empty + "' is an empty file");
  CHECK_THROWS_WITH(load_classification_tsv("/nonexistent.tsv"), "cannot open file '/nonexistent.tsv'");
  // Split on the last tab: the text may hold tabs.
  const auto s = parse_classification_tsv("a\tb\t1\n", "s.tsv");
  CHECK(s.texts[0] == "a\tb");
}

TEST_CASE("regression and sentence-pair TSV", "[data]") {
  const auto r = parse_regression_tsv("nice\t4.5\nbad\t-1e-1\n", "r.tsv");
  CHECK(r.values == std::vector<float>{4.5f, -0.1f});
  CHECK_THROWS_WITH(parse_regression_tsv("nice\t4.5\nbad\tabc\n", "r.tsv"),
                    "r.tsv line 2: malformed value \"abc\" (expected a finite number)");
  CHECK_THROWS_WITH(parse_regression_tsv("nice\t4.5\nbad\tnan\n", "r.tsv"),
                    "r.tsv line 2: malformed value \"nan\" (expected a finite number)");
  CHECK_THROWS_WITH(parse_regression_tsv("nice 4.5\n", "r.tsv"),
                    "r.tsv line 1: missing value column (expected a tab-separated text<TAB>label)");
  CTFORMER_REQUIRE_DATA(tr, "translation/eng-fra.attributed.5k.tsv");
  const auto p = load_pairs_tsv(tr.string());
  CHECK(p.sources.size() == 5000);
  CHECK(p.sources[0] == "Go.");
  CHECK(p.targets[0] == "Va !");
  CHECK_THROWS_WITH(parse_pairs_tsv("Go.\tVa !\nRun!\n", "p.tsv"),
                    "p.tsv line 2: missing target column (expected source<TAB>target)");
}

TEST_CASE("language-model stream: chunks with next-token targets", "[data]") {
  std::vector<std::int32_t> toks(23);
  for (std::int32_t i = 0; i < 23; ++i) toks[std::size_t(i)] = 100 + i;
  const lm_stream s(toks);
  CHECK(s.chunk_count(5) == 4);
  static token_batch<3, 5> b;
  batch_rows<3> rows;
  rows.index = {2, 0, 0};
  rows.count = 2;
  s.fill(b, rows);
  CHECK(b.ids(0, 0) == 110);
  CHECK(b.targets(0, 0) == 111);
  CHECK(b.targets(0, 4) == 115);
  CHECK(b.ids(1, 4) == 104);
  CHECK(b.targets(1, 4) == 105);
  CHECK(b.attention_mask(2, 0) == 0);
  CHECK(b.targets(2, 3) == ignore_index);
  rows.index[0] = 4;
  CHECK_THROWS_WITH(s.fill(b, rows), "language-model stream: chunk 4 is past the end (4 chunks of 5)");
  CHECK_THROWS_WITH(lm_stream({1}), "language-model stream: need at least 2 tokens, got 1");
}

TEST_CASE("seq2seq batches: shifted decoder inputs, eos targets, padding ignored", "[data]") {
  const byte_tokenizer t;
  pair_set set;
  set.sources = {"hi", "abcdefgh"};
  set.targets = {"yo", "xyz"};
  const auto ex = encode_pairs(t, t, set);
  static seq2seq_batch<2, 4, 4> b;
  batch_rows<2> rows;
  rows.index = {0, 1};
  rows.count = 2;
  const seq2seq_specials sp{t.specials().bos, t.specials().eos, t.specials().pad};
  fill_batch(b, std::span<const seq2seq_example>(ex), rows, sp);
  // Row 0: src "hi" eos pad; tgt_in bos y o pad; tgt_out y o eos ignore.
  CHECK(b.src_ids(0, 0) == 'h');
  CHECK(b.src_ids(0, 2) == 262);
  CHECK(b.src_ids(0, 3) == 256);
  CHECK(b.src_mask(0, 2) == 1);
  CHECK(b.src_mask(0, 3) == 0);
  CHECK(b.tgt_in(0, 0) == 261);
  CHECK(b.tgt_in(0, 1) == 'y');
  CHECK(b.tgt_out(0, 0) == 'y');
  CHECK(b.tgt_out(0, 2) == 262);
  CHECK(b.tgt_out(0, 3) == ignore_index);
  CHECK(b.tgt_mask(0, 3) == 0);
  // Row 1: source truncated to 3 + eos; target "xyz" fills all 4 (bos x y z / x y z eos).
  CHECK(b.src_ids(1, 2) == 'c');
  CHECK(b.src_ids(1, 3) == 262);
  CHECK(b.tgt_in(1, 3) == 'z');
  CHECK(b.tgt_out(1, 3) == 262);
}
