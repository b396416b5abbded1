// Fuzzes the TSV data set readers (data/datasets.hpp): classification (labels first or last,
// names or integers, header), regression and sentence pairs; options from the first byte.
#include <ctformer/data/datasets.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  if (size == 0) return 0;
  const unsigned char b = data[0];
  const std::string_view content = fuzz::as_view(data + 1, size - 1);
  tsv_options o;
  o.label_column = b & 1 ? tsv_options::label_at::first : tsv_options::label_at::last;
  o.header = b & 2;
  o.names_from_data = b & 4;
  o.on_invalid = b & 8 ? utf8::on_invalid::replace : utf8::on_invalid::reject;
  if (b & 16) o.label_names = {"neg", "pos"};
  fuzz::run([&] {
    const auto set = parse_classification_tsv(content, "fuzz.tsv", o);
    fuzz::require(set.texts.size() == set.labels.size(), "tsv: one label per text");
    for (auto l : set.labels) fuzz::require(l >= 0 && std::size_t(l) < set.class_count(), "tsv: labels in range");
  });
  fuzz::run([&] {
    const auto set = parse_regression_tsv(content, "fuzz.tsv", o);
    fuzz::require(set.texts.size() == set.values.size(), "tsv: one value per text");
  });
  return fuzz::run([&] {
    const auto set = parse_pairs_tsv(content, "fuzz.tsv", o.on_invalid);
    fuzz::require(set.sources.size() == set.targets.size(), "tsv: one target per source");
  });
}
