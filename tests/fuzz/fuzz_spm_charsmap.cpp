// Fuzzes the precompiled normalization map (spm::charsmap: a darts-clone trie followed by
// NUL-terminated replacement strings) directly: "blob<separator>text". An accepted blob is
// matched at every position of the text, then built into a .model (first text byte: the
// normalizer flags) that is loaded and used to encode, so the model-level paths see it too.
#include <ctformer/data/tokenizers/sentencepiece.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  return fuzz::run([&] {
    auto [blob, text] = fuzz::split2(fuzz::as_view(data, size));
    const auto map = spm::charsmap::parse(blob, "fuzz charsmap");
    const std::string probe = std::string(text) + "Hello \xC3\xA9\xEF\xBC\xA1\x01";
    for (std::size_t i = 0; i < probe.size(); ++i) {
      const auto [len, rep] = map.match(std::string_view(probe).substr(i));
      fuzz::require(len <= probe.size() - i, "charsmap: a match stays inside the text");
      (void)rep.size();
    }
    // Large real maps (nmt_nfkc: 237 KB) are covered by the lookups above; decompiling them and
    // building a model twice would take most of libFuzzer's one-second budget under ASan.
    if (blob.size() > 65536) return;
    (void)map.rules();
    unsigned char flags = text.empty() ? 0xFF : static_cast<unsigned char>(text[0]);
    spm::model_proto m;
    m.pieces = {{"<unk>", 0.f, spm::piece_type::unknown}, {"<s>", 0.f, spm::piece_type::control},
                {"\xE2\x96\x81", -1.f}, {"a", -2.f}, {"b", -2.5f}, {"\xE2\x96\x81" "a", -1.5f}, {"ab", -3.f}};
    m.trainer.type = flags & 0x10 ? spm::model_type::bpe : spm::model_type::unigram;
    m.trainer.treat_whitespace_as_suffix = flags & 0x20;
    m.normalizer.name = "fuzz";
    m.normalizer.precompiled_charsmap = std::string(blob);
    m.normalizer.add_dummy_prefix = flags & 1;
    m.normalizer.remove_extra_whitespaces = flags & 2;
    m.normalizer.escape_whitespaces = flags & 4;
    if (flags & 8) m.denormalizer = m.normalizer;
    const auto tok = sentencepiece_tokenizer::from_serialized(spm::serialize_model(m), "fuzz-charsmap.model");
    const auto ids = tok.encode(probe);
    for (auto id : ids) fuzz::require(id >= 0 && std::size_t(id) < tok.vocab_size(), "spm: ids inside the vocabulary");
    (void)tok.decode(ids);
  });
}
