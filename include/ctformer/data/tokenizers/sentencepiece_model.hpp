// SentencePiece .model files: a ModelProto in protobuf wire format, read and written by hand
// (no protobuf dependency). Fields follow sentencepiece_model.proto; unknown fields with a valid
// wire type are skipped as protobuf does, while truncation, overlong varints, bad wire types, wrong
// wire types for known fields, bad enum values and inconsistent pieces fail with ctformer::error.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "../../error.hpp"

namespace ctformer::spm {

enum class piece_type : std::int32_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };
enum class model_type : std::int32_t { unigram = 1, bpe = 2, word = 3, character = 4 };

/// One vocabulary entry of a SentencePiece model.
struct model_piece {
  std::string piece;  ///< the piece's text (U+2581 marks a word start)
  float score = 0.f;  ///< unigram: log-probability; BPE: merge priority
  piece_type type = piece_type::normal;  ///< normal, unknown, control, user-defined, unused or byte
};

/// TrainerSpec. Defaults are the proto's; only the fields that change encoding matter to the
/// tokenizer (model_type, byte_fallback, the special ids and pieces, unk_surface,
/// treat_whitespace_as_suffix); the rest are kept so that a model round-trips.
struct trainer_spec {
  std::vector<std::string> input;  ///< training input files
  std::string input_format;  ///< format of the input files
  std::string model_prefix;  ///< prefix of the trained model's files
  model_type type = model_type::unigram;  ///< unigram, BPE, word or character model
  std::int32_t vocab_size = 8000;  ///< size of the vocabulary
  std::vector<std::string> accept_language;  ///< languages of the input
  std::int32_t self_test_sample_size = 0;  ///< sentences used for the trainer's self test
  float character_coverage = 0.9995f;  ///< share of the input's characters the vocabulary covers
  std::uint64_t input_sentence_size = 0;  ///< most sentences loaded for training (0: all)
  bool shuffle_input_sentence = true;  ///< sample the loaded sentences at random
  std::int32_t seed_sentencepiece_size = 1000000;  ///< initial pieces of unigram training
  float shrinking_factor = 0.75f;  ///< share of pieces kept per unigram pruning round
  std::int32_t max_sentence_length = 4192;  ///< longest training sentence, in bytes
  std::int32_t num_threads = 16;  ///< trainer threads
  std::int32_t num_sub_iterations = 2;  ///< EM sub-iterations per unigram round
  std::int32_t max_sentencepiece_length = 16;  ///< longest piece, in characters
  bool split_by_unicode_script = true;  ///< pieces do not cross Unicode script boundaries
  bool split_by_number = true;  ///< pieces do not mix digits and other characters
  bool split_by_whitespace = true;  ///< pieces do not span whitespace
  bool treat_whitespace_as_suffix = false;  ///< the whitespace marker ends a piece instead of starting it
  bool allow_whitespace_only_pieces = false;  ///< pieces may be whitespace only
  bool split_digits = false;  ///< each digit is a piece of its own
  std::vector<std::string> control_symbols;  ///< control pieces (no surface text)
  std::vector<std::string> user_defined_symbols;  ///< pieces always kept whole
  std::string required_chars;  ///< characters always in the vocabulary
  bool byte_fallback = false;  ///< unknown characters become byte pieces
  bool vocabulary_output_piece_score = true;  ///< the .vocab file lists scores
  bool hard_vocab_limit = true;  ///< vocab_size is a hard limit
  bool use_all_vocab = false;  ///< every word becomes a piece (word and character models)
  std::int32_t unk_id = 0;   ///< id of the unknown piece
  std::int32_t bos_id = 1;   ///< id of the bos piece (-1: none)
  std::int32_t eos_id = 2;   ///< id of the eos piece (-1: none)
  std::int32_t pad_id = -1;  ///< id of the pad piece (-1: none)
  std::string unk_piece = "<unk>";  ///< spelling of the unknown piece
  std::string bos_piece = "<s>";    ///< spelling of the bos piece
  std::string eos_piece = "</s>";   ///< spelling of the eos piece
  std::string pad_piece = "<pad>";  ///< spelling of the pad piece
  std::string unk_surface = " \xE2\x81\x87 ";  ///< " ⁇ "
  bool train_extremely_large_corpus = false;  ///< trainer setting for very large corpora
};

/// NormalizerSpec: how text is normalized before it is split into pieces.
struct normalizer_spec {
  std::string name;  ///< name of the rule set ("nmt_nfkc", "identity", ...)
  std::string precompiled_charsmap;  ///< empty: identity
  bool add_dummy_prefix = true;  ///< prepend the whitespace marker to the text
  bool remove_extra_whitespaces = true;  ///< drop leading and trailing whitespace and fold runs of it
  bool escape_whitespaces = true;  ///< replace spaces by U+2581
  std::string normalization_rule_tsv;  ///< custom rules as TSV (training input)
};

/// A parsed SentencePiece .model file (ModelProto).
struct model_proto {
  std::vector<model_piece> pieces;  ///< the vocabulary, in id order
  trainer_spec trainer;  ///< TrainerSpec
  normalizer_spec normalizer;  ///< NormalizerSpec
  std::optional<normalizer_spec> denormalizer;  ///< denormalizer, if the model has one
};

inline std::string_view to_string(model_type t) {
  switch (t) {
    case model_type::unigram: return "UNIGRAM";
    case model_type::bpe: return "BPE";
    case model_type::word: return "WORD";
    case model_type::character: return "CHAR";
  }
  return "?";
}

/// "<0x41>" -> 0x41; -1 for anything else (byte pieces are spelled with two upper-case digits).
inline int byte_of_piece(std::string_view p) noexcept {
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return -1;
  int v = 0;
  for (char c : p.substr(3, 2)) {
    if (c >= '0' && c <= '9') v = v * 16 + (c - '0');
    else if (c >= 'A' && c <= 'F') v = v * 16 + (c - 'A' + 10);
    else return -1;
  }
  return v;
}
inline std::string piece_of_byte(unsigned char b) {
  static constexpr char hex[] = "0123456789ABCDEF";
  return std::string{'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
}

namespace detail {

enum wire : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, start_group = 3, end_group = 4, fixed32 = 5 };

inline std::string_view wire_name(std::uint32_t w) {
  switch (w) {
    case varint: return "varint";
    case fixed64: return "64-bit";
    case length_delimited: return "length-delimited";
    case start_group: return "start-group";
    case end_group: return "end-group";
    case fixed32: return "32-bit";
  }
  return "invalid";
}

/// A cursor over one message. Offsets in messages are absolute (from the start of the file).
class wire_reader {
 public:
  wire_reader(std::string_view bytes, std::size_t base, std::string_view file, std::string context)
      : data_(bytes), base_(base), file_(file), context_(std::move(context)) {}

  bool done() const noexcept { return pos_ >= data_.size(); }
  std::size_t offset() const noexcept { return base_ + pos_; }
  const std::string& context() const noexcept { return context_; }

  template <class... Args>
  [[noreturn]] void error(std::size_t at, fmt::format_string<Args...> f, Args&&... args) const {
    fail("sentencepiece model '{}': {} at byte offset {} (in {})", file_,
         fmt::format(f, std::forward<Args>(args)...), at, context_);
  }

  std::uint64_t read_varint() {
    const std::size_t start = offset();
    std::uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ >= data_.size()) error(start, "truncated varint (file cut short?)");
      const auto b = static_cast<unsigned char>(data_[pos_++]);
      if (i == 9 && b > 1) error(start, "corrupt varint (more than 64 bits)");
      v |= std::uint64_t(b & 0x7F) << (7 * i);
      if (b < 0x80) return v;
    }
    error(start, "corrupt varint (longer than 10 bytes)");
  }

  /// Reads a tag; returns false at the end of the message.
  bool next(std::uint32_t& field, std::uint32_t& type) {
    if (done()) return false;
    tag_at_ = offset();
    const std::uint64_t tag = read_varint();
    field = field_ = static_cast<std::uint32_t>(tag >> 3);
    type = static_cast<std::uint32_t>(tag & 7);
    if (tag >> 3 > 0x1FFFFFFF || field == 0) error(tag_at_, "invalid field number {}", tag >> 3);
    if (type == start_group || type == end_group)
      error(tag_at_, "field {} uses the deprecated group wire type {}, which SentencePiece models never contain", field, type);
    if (type > fixed32) error(tag_at_, "unknown wire type {} for field {}", type, field);
    return true;
  }

  void expect(std::uint32_t type, std::uint32_t want, std::uint32_t field, std::string_view name) const {
    if (type != want)
      error(tag_at_, "field {} ({}) has wire type {} ({}), expected {} ({})", field, name, type,
            wire_name(type), want, wire_name(want));
  }

  std::string_view read_bytes(std::size_t& at, std::uint32_t field = 0, std::string_view name = "unknown") {
    const std::size_t start = offset();
    const std::uint64_t n = read_varint();
    if (n > data_.size() - pos_)
      error(start, "truncated field {} ({}): length {} runs past the end of the data ({} bytes left)", field, name,
            n, data_.size() - pos_);
    at = offset();
    const std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view read_bytes(std::uint32_t field = 0, std::string_view name = "unknown") {
    std::size_t at;
    return read_bytes(at, field, name);
  }
  float read_float() {
    if (data_.size() - pos_ < 4) error(offset(), "truncated 32-bit field (file cut short?)");
    unsigned char b[4];
    std::memcpy(b, data_.data() + pos_, 4);
    pos_ += 4;
    const std::uint32_t u = std::uint32_t(b[0]) | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]) << 16 | std::uint32_t(b[3]) << 24;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  void skip(std::uint32_t type) {
    switch (type) {
      case varint: read_varint(); break;
      case fixed64:
        if (data_.size() - pos_ < 8) error(offset(), "truncated 64-bit field (file cut short?)");
        pos_ += 8;
        break;
      case length_delimited: read_bytes(field_, "unknown"); break;
      case fixed32: read_float(); break;
    }
  }

  /// Typed reads of known fields, checking the wire type first.
  std::int32_t int32(std::uint32_t type, std::uint32_t field, std::string_view name) {
    expect(type, varint, field, name);
    return static_cast<std::int32_t>(static_cast<std::int64_t>(read_varint()));  // proto int32 semantics
  }
  std::uint64_t uint64(std::uint32_t type, std::uint32_t field, std::string_view name) {
    expect(type, varint, field, name);
    return read_varint();
  }
  bool boolean(std::uint32_t type, std::uint32_t field, std::string_view name) {
    expect(type, varint, field, name);
    return read_varint() != 0;
  }
  float float32(std::uint32_t type, std::uint32_t field, std::string_view name) {
    expect(type, fixed32, field, name);
    return read_float();
  }
  std::string string(std::uint32_t type, std::uint32_t field, std::string_view name) {
    expect(type, length_delimited, field, name);
    return std::string(read_bytes(field, name));
  }
  wire_reader message(std::uint32_t type, std::uint32_t field, std::string_view name, std::string context) {
    expect(type, length_delimited, field, name);
    std::size_t at;
    const std::string_view body = read_bytes(at, field, name);
    return wire_reader(body, at, file_, std::move(context));
  }
  std::size_t tag_offset() const noexcept { return tag_at_; }

 private:
  std::string_view data_;
  std::size_t base_ = 0, pos_ = 0, tag_at_ = 0;
  std::uint32_t field_ = 0;
  std::string_view file_;
  std::string context_;
};

inline void read_piece(wire_reader r, model_piece& p) {
  std::uint32_t f, t;
  while (r.next(f, t)) {
    switch (f) {
      case 1: p.piece = r.string(t, f, "piece"); break;
      case 2: p.score = r.float32(t, f, "score"); break;
      case 3: {
        const std::size_t at = r.tag_offset();
        const std::int32_t v = r.int32(t, f, "type");
        if (v < 1 || v > 6) r.error(at, "unknown piece type {} (expected 1-6: NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE)", v);
        p.type = static_cast<piece_type>(v);
        break;
      }
      default: r.skip(t);
    }
  }
}

inline void read_trainer(wire_reader r, trainer_spec& s) {
  std::uint32_t f, t;
  while (r.next(f, t)) {
    switch (f) {
      case 1: s.input.push_back(r.string(t, f, "input")); break;
      case 2: s.model_prefix = r.string(t, f, "model_prefix"); break;
      case 3: {
        const std::size_t at = r.tag_offset();
        const std::int32_t v = r.int32(t, f, "model_type");
        if (v < 1 || v > 4) r.error(at, "unknown model_type {} (expected 1-4: UNIGRAM, BPE, WORD, CHAR)", v);
        s.type = static_cast<model_type>(v);
        break;
      }
      case 4: s.vocab_size = r.int32(t, f, "vocab_size"); break;
      case 5: s.accept_language.push_back(r.string(t, f, "accept_language")); break;
      case 6: s.self_test_sample_size = r.int32(t, f, "self_test_sample_size"); break;
      case 7: s.input_format = r.string(t, f, "input_format"); break;
      case 10: s.character_coverage = r.float32(t, f, "character_coverage"); break;
      case 11: s.input_sentence_size = r.uint64(t, f, "input_sentence_size"); break;
      case 14: s.seed_sentencepiece_size = r.int32(t, f, "seed_sentencepiece_size"); break;
      case 15: s.shrinking_factor = r.float32(t, f, "shrinking_factor"); break;
      case 16: s.num_threads = r.int32(t, f, "num_threads"); break;
      case 17: s.num_sub_iterations = r.int32(t, f, "num_sub_iterations"); break;
      case 18: s.max_sentence_length = r.int32(t, f, "max_sentence_length"); break;
      case 19: s.shuffle_input_sentence = r.boolean(t, f, "shuffle_input_sentence"); break;
      case 20: s.max_sentencepiece_length = r.int32(t, f, "max_sentencepiece_length"); break;
      case 21: s.split_by_unicode_script = r.boolean(t, f, "split_by_unicode_script"); break;
      case 22: s.split_by_whitespace = r.boolean(t, f, "split_by_whitespace"); break;
      case 23: s.split_by_number = r.boolean(t, f, "split_by_number"); break;
      case 24: s.treat_whitespace_as_suffix = r.boolean(t, f, "treat_whitespace_as_suffix"); break;
      case 25: s.split_digits = r.boolean(t, f, "split_digits"); break;
      case 26: s.allow_whitespace_only_pieces = r.boolean(t, f, "allow_whitespace_only_pieces"); break;
      case 30: s.control_symbols.push_back(r.string(t, f, "control_symbols")); break;
      case 31: s.user_defined_symbols.push_back(r.string(t, f, "user_defined_symbols")); break;
      case 32: s.vocabulary_output_piece_score = r.boolean(t, f, "vocabulary_output_piece_score"); break;
      case 33: s.hard_vocab_limit = r.boolean(t, f, "hard_vocab_limit"); break;
      case 34: s.use_all_vocab = r.boolean(t, f, "use_all_vocab"); break;
      case 35: s.byte_fallback = r.boolean(t, f, "byte_fallback"); break;
      case 36: s.required_chars = r.string(t, f, "required_chars"); break;
      case 40: s.unk_id = r.int32(t, f, "unk_id"); break;
      case 41: s.bos_id = r.int32(t, f, "bos_id"); break;
      case 42: s.eos_id = r.int32(t, f, "eos_id"); break;
      case 43: s.pad_id = r.int32(t, f, "pad_id"); break;
      case 44: s.unk_surface = r.string(t, f, "unk_surface"); break;
      case 45: s.unk_piece = r.string(t, f, "unk_piece"); break;
      case 46: s.bos_piece = r.string(t, f, "bos_piece"); break;
      case 47: s.eos_piece = r.string(t, f, "eos_piece"); break;
      case 48: s.pad_piece = r.string(t, f, "pad_piece"); break;
      case 49: s.train_extremely_large_corpus = r.boolean(t, f, "train_extremely_large_corpus"); break;
      default: r.skip(t);  // newer or third-party fields (e.g. differential privacy, 50-52)
    }
  }
}

inline void read_normalizer(wire_reader r, normalizer_spec& s) {
  std::uint32_t f, t;
  while (r.next(f, t)) {
    switch (f) {
      case 1: s.name = r.string(t, f, "name"); break;
      case 2: s.precompiled_charsmap = r.string(t, f, "precompiled_charsmap"); break;
      case 3: s.add_dummy_prefix = r.boolean(t, f, "add_dummy_prefix"); break;
      case 4: s.remove_extra_whitespaces = r.boolean(t, f, "remove_extra_whitespaces"); break;
      case 5: s.escape_whitespaces = r.boolean(t, f, "escape_whitespaces"); break;
      case 6: s.normalization_rule_tsv = r.string(t, f, "normalization_rule_tsv"); break;
      default: r.skip(t);
    }
  }
}

/// Writer: fields in field-number order, as protobuf serializes them.
class wire_writer {
 public:
  std::string out;
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out.push_back(char((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out.push_back(char(v));
  }
  void tag(std::uint32_t field, std::uint32_t type) { varint((std::uint64_t(field) << 3) | type); }
  void int32(std::uint32_t field, std::int32_t v) {
    tag(field, detail::varint);
    varint(static_cast<std::uint64_t>(static_cast<std::int64_t>(v)));  // negative: 10 bytes
  }
  void uint64(std::uint32_t field, std::uint64_t v) {
    tag(field, detail::varint);
    varint(v);
  }
  void boolean(std::uint32_t field, bool v) {
    tag(field, detail::varint);
    varint(v ? 1 : 0);
  }
  void float32(std::uint32_t field, float f) {
    tag(field, fixed32);
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int i = 0; i < 4; ++i) out.push_back(char((u >> (8 * i)) & 0xFF));
  }
  void bytes(std::uint32_t field, std::string_view s) {
    tag(field, length_delimited);
    varint(s.size());
    out.append(s);
  }
};

}  // namespace detail

/// Checks what SentencePiece checks when it loads a model: non-empty pieces without NUL bytes,
/// no duplicates, exactly one UNKNOWN piece, BYTE pieces only with byte_fallback and then all 256.
inline void validate(const model_proto& m, std::string_view file = "<memory>") {
  if (m.pieces.empty()) fail("sentencepiece model '{}': the model has no pieces", file);
  if (m.trainer.type != model_type::unigram && m.trainer.type != model_type::bpe &&
      m.trainer.type != model_type::word && m.trainer.type != model_type::character)
    fail("sentencepiece model '{}': unknown model type {}", file, int(m.trainer.type));
  std::unordered_set<std::string_view> normal, reserved;
  int unk = -1;
  bool bytes[256] = {};
  for (std::size_t i = 0; i < m.pieces.size(); ++i) {
    const auto& p = m.pieces[i];
    if (p.piece.empty()) fail("sentencepiece model '{}': piece {} is empty", file, i);
    if (p.piece.size() >= 8000) fail("sentencepiece model '{}': piece {} is too long ({} bytes)", file, i, p.piece.size());
    if (p.piece.find('\0') != std::string::npos) fail("sentencepiece model '{}': piece {} contains a NUL byte", file, i);
    const bool is_normal = p.type == piece_type::normal || p.type == piece_type::user_defined || p.type == piece_type::unused;
    if (!(is_normal ? normal : reserved).insert(p.piece).second)
      fail("sentencepiece model '{}': piece '{}' (id {}) is defined twice", file, p.piece, i);
    if (p.type == piece_type::unknown) {
      if (unk >= 0) fail("sentencepiece model '{}': two UNKNOWN pieces (ids {} and {})", file, unk, i);
      unk = int(i);
    }
    if (p.type == piece_type::byte) {
      if (!m.trainer.byte_fallback)
        fail("sentencepiece model '{}': byte piece '{}' (id {}) although byte_fallback is false", file, p.piece, i);
      const int b = byte_of_piece(p.piece);
      if (b < 0) fail("sentencepiece model '{}': byte piece '{}' (id {}) is not of the form <0xHH>", file, p.piece, i);
      bytes[b] = true;
    }
  }
  if (unk < 0) fail("sentencepiece model '{}': no UNKNOWN piece (<unk>) is defined", file);
  if (m.trainer.byte_fallback)
    for (int b = 0; b < 256; ++b)
      if (!bytes[b]) fail("sentencepiece model '{}': byte_fallback is on but byte piece <0x{:02X}> is missing", file, b);
}

/// Parses a serialized ModelProto. `file` names the source in error messages.
inline model_proto parse_model(std::string_view bytes, std::string_view file = "<memory>") {
  model_proto m;
  detail::wire_reader r(bytes, 0, file, "ModelProto");
  bool has_trainer = false, has_normalizer = false;
  std::uint32_t f, t;
  while (r.next(f, t)) {
    switch (f) {
      case 1: {
        m.pieces.emplace_back();
        detail::read_piece(r.message(t, f, "pieces", fmt::format("ModelProto.pieces[{}]", m.pieces.size() - 1)), m.pieces.back());
        break;
      }
      case 2:
        detail::read_trainer(r.message(t, f, "trainer_spec", "ModelProto.trainer_spec"), m.trainer);
        has_trainer = true;
        break;
      case 3:
        detail::read_normalizer(r.message(t, f, "normalizer_spec", "ModelProto.normalizer_spec"), m.normalizer);
        has_normalizer = true;
        break;
      case 5:
        m.denormalizer.emplace();
        detail::read_normalizer(r.message(t, f, "denormalizer_spec", "ModelProto.denormalizer_spec"), *m.denormalizer);
        break;
      default: r.skip(t);  // self_test_data (4) and extensions
    }
  }
  // spm_train always writes both specs after the pieces; a file without them was cut short at a
  // field boundary, which the wire format alone cannot detect.
  if (!has_trainer || !has_normalizer)
    fail("sentencepiece model '{}': no {} after {} pieces (truncated file?)", file,
         has_trainer ? "normalizer_spec" : "trainer_spec", m.pieces.size());
  validate(m, file);
  return m;
}

inline model_proto load_model(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("sentencepiece model '{}': cannot open the file", path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_model(bytes, path.string());
}

inline std::string serialize_model(const model_proto& m) {
  using detail::wire_writer;
  const auto normalizer = [](const normalizer_spec& s) {
    wire_writer w;
    w.bytes(1, s.name);
    if (!s.precompiled_charsmap.empty()) w.bytes(2, s.precompiled_charsmap);
    w.boolean(3, s.add_dummy_prefix);
    w.boolean(4, s.remove_extra_whitespaces);
    w.boolean(5, s.escape_whitespaces);
    if (!s.normalization_rule_tsv.empty()) w.bytes(6, s.normalization_rule_tsv);
    return w.out;
  };
  wire_writer w;
  for (const auto& p : m.pieces) {
    wire_writer pw;
    pw.bytes(1, p.piece);
    pw.float32(2, p.score);
    if (p.type != piece_type::normal) pw.int32(3, static_cast<std::int32_t>(p.type));
    w.bytes(1, pw.out);
  }
  const trainer_spec& s = m.trainer;
  wire_writer tw;
  for (const auto& x : s.input) tw.bytes(1, x);
  tw.bytes(2, s.model_prefix);
  tw.int32(3, static_cast<std::int32_t>(s.type));
  tw.int32(4, s.vocab_size);
  for (const auto& x : s.accept_language) tw.bytes(5, x);
  tw.int32(6, s.self_test_sample_size);
  tw.bytes(7, s.input_format);
  tw.float32(10, s.character_coverage);
  tw.uint64(11, s.input_sentence_size);
  tw.int32(14, s.seed_sentencepiece_size);
  tw.float32(15, s.shrinking_factor);
  tw.int32(16, s.num_threads);
  tw.int32(17, s.num_sub_iterations);
  tw.int32(18, s.max_sentence_length);
  tw.boolean(19, s.shuffle_input_sentence);
  tw.int32(20, s.max_sentencepiece_length);
  tw.boolean(21, s.split_by_unicode_script);
  tw.boolean(22, s.split_by_whitespace);
  tw.boolean(23, s.split_by_number);
  tw.boolean(24, s.treat_whitespace_as_suffix);
  tw.boolean(25, s.split_digits);
  tw.boolean(26, s.allow_whitespace_only_pieces);
  for (const auto& x : s.control_symbols) tw.bytes(30, x);
  for (const auto& x : s.user_defined_symbols) tw.bytes(31, x);
  tw.boolean(32, s.vocabulary_output_piece_score);
  tw.boolean(33, s.hard_vocab_limit);
  tw.boolean(34, s.use_all_vocab);
  tw.boolean(35, s.byte_fallback);
  tw.bytes(36, s.required_chars);
  tw.int32(40, s.unk_id);
  tw.int32(41, s.bos_id);
  tw.int32(42, s.eos_id);
  tw.int32(43, s.pad_id);
  tw.bytes(44, s.unk_surface);
  tw.bytes(45, s.unk_piece);
  tw.bytes(46, s.bos_piece);
  tw.bytes(47, s.eos_piece);
  tw.bytes(48, s.pad_piece);
  tw.boolean(49, s.train_extremely_large_corpus);
  w.bytes(2, tw.out);
  w.bytes(3, normalizer(m.normalizer));
  if (m.denormalizer) w.bytes(5, normalizer(*m.denormalizer));
  return std::move(w.out);
}

inline void save_model(const model_proto& m, const std::filesystem::path& path) {
  const std::string bytes = serialize_model(m);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !out.write(bytes.data(), std::streamsize(bytes.size())))
    fail("sentencepiece model '{}': cannot write the file", path.string());
}

}  // namespace ctformer::spm
