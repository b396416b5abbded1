// Special-token templates and encoding to the model's fixed sequence length: single text
// "prefix A suffix" or pair "prefix A middle B suffix" (BERT: [CLS] A [SEP] B [SEP]; token type
// 0 up to and including the middle, 1 after), truncation (longest-first for pairs: drop the last
// token of the longer side, the second on ties), padding to S and the attention mask (1 real,
// 0 pad). fixed_encoding<S> is one row; batching copies rows into the batch structs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "tokenizers/tokenizer.hpp"

namespace ctformer {

/// Special ids around texts: prefix A suffix, or for pairs prefix A middle B suffix.
struct sequence_template {
  std::vector<std::int32_t> prefix;  ///< ids before the first text
  std::vector<std::int32_t> middle;  ///< ids between the two texts of a pair
  std::vector<std::int32_t> suffix;  ///< ids at the end

  /// No special tokens.
  static sequence_template none() { return {}; }
  /// [CLS] A [SEP] (B [SEP]); fails when the tokenizer lacks [CLS] or [SEP].
  static sequence_template bert(const special_tokens& s) {
    if (s.cls < 0 || s.sep < 0) fail("BERT template: the tokenizer has no [CLS] or [SEP] token");
    return {{s.cls}, {s.sep}, {s.sep}};
  }
  /// bos A eos (pairs: bos A eos B eos); bos or eos is left out when the tokenizer has none.
  static sequence_template gpt(const special_tokens& s) {
    sequence_template t;
    if (s.bos >= 0) t.prefix.push_back(s.bos);
    if (s.eos >= 0) {
      t.middle.push_back(s.eos);
      t.suffix.push_back(s.eos);
    }
    return t;
  }
  /// Special tokens the template adds to one text (pair: to a pair).
  std::size_t overhead(bool pair) const { return prefix.size() + suffix.size() + (pair ? middle.size() : 0); }
};

enum class truncation { longest_first, only_first, only_second, none };

/// How texts become ids: the special-token template, truncation and the padding id.
struct encode_options {
  sequence_template tmpl{};  ///< special tokens around the text(s)
  truncation truncate = truncation::longest_first;  ///< which text loses tokens when the total exceeds the length
  std::int32_t pad_id = -1;  ///< -1: the tokenizer's pad, else its eos, else 0
};

inline std::int32_t resolve_pad(const encode_options& o, const special_tokens& s) {
  if (o.pad_id >= 0) return o.pad_id;
  if (s.pad >= 0) return s.pad;
  if (s.eos >= 0) return s.eos;
  return 0;
}

/// A variable-length encoding: the template applied and truncated to at most max_len tokens.
struct encoding {
  /// Token ids and segment ids (0 first text, 1 second).
  std::vector<std::int32_t> ids, token_type;  ///< segment ids
  std::size_t truncated = 0;  ///< tokens dropped
};

/// Lengths of A and B that fit `budget` under the strategy; fails when they cannot.
inline std::pair<std::size_t, std::size_t> truncated_lengths(std::size_t la, std::size_t lb, bool pair,
                                                             std::size_t budget, truncation how) {
  if (la + lb <= budget) return {la, lb};
  switch (how) {
    case truncation::none:
      fail("encode: {} tokens do not fit the sequence length (room for {} after special tokens) and truncation is off",
           la + lb, budget);
    case truncation::only_first:
      if (lb > budget) fail("encode: the second text alone ({} tokens) exceeds the room of {}", lb, budget);
      return {budget - lb, lb};
    case truncation::only_second:
      if (!pair || la > budget) fail("encode: the first text ({} tokens) exceeds the room of {} and only the second may be cut", la, budget);
      return {la, budget - la};
    case truncation::longest_first: {
      /// Drop one token at a time from the longer side (the second on ties), in closed form.
      std::size_t excess = la + lb - budget;
      if (la > lb) {
        const std::size_t d = std::min(excess, la - lb);
        la -= d;
        excess -= d;
      } else if (lb > la) {
        const std::size_t d = std::min(excess, lb - la);
        lb -= d;
        excess -= d;
      }
      /// Now equal: alternate, second first.
      lb -= (excess + 1) / 2;
      la -= excess / 2;
      return {la, lb};
    }
  }
  return {la, lb};
}

inline encoding apply_template(std::span<const std::int32_t> a, std::optional<std::span<const std::int32_t>> b,
                               const sequence_template& t, std::size_t max_len,
                               truncation how = truncation::longest_first) {
  const bool pair = b.has_value();
  const std::size_t over = t.overhead(pair);
  if (over > max_len) fail("encode: the template's {} special tokens exceed the sequence length {}", over, max_len);
  const auto [la, lb] = truncated_lengths(a.size(), pair ? b->size() : 0, pair, max_len - over, how);
  encoding e;
  e.truncated = a.size() + (pair ? b->size() : 0) - la - lb;
  auto put = [&](std::span<const std::int32_t> s, std::int32_t type) {
    e.ids.insert(e.ids.end(), s.begin(), s.end());
    e.token_type.insert(e.token_type.end(), s.size(), type);
  };
  put(t.prefix, 0);
  put(a.first(la), 0);
  if (pair) {
    put(t.middle, 0);
    put(b->first(lb), 1);
    put(t.suffix, 1);
  } else {
    put(t.suffix, 0);
  }
  return e;
}

/// An encoding padded to S tokens, with its attention mask.
template <std::size_t S>
struct fixed_encoding {
  static constexpr std::size_t seq = S;  ///< S
  std::array<std::int32_t, S> ids{};             ///< (S) token ids
  std::array<std::int32_t, S> attention_mask{};  ///< (S) attention mask: 1 real, 0 pad
  std::array<std::int32_t, S> token_type{};      ///< (S) segment ids
  std::size_t length = 0;     ///< real tokens
  std::size_t truncated = 0;  ///< tokens dropped to fit S
};

template <std::size_t S>
fixed_encoding<S> pad_to(const encoding& e, std::int32_t pad_id) {
  if (e.ids.size() > S) fail("encode: {} tokens exceed the sequence length {}", e.ids.size(), S);
  fixed_encoding<S> f;
  f.ids.fill(pad_id);
  for (std::size_t i = 0; i < e.ids.size(); ++i) {
    f.ids[i] = e.ids[i];
    f.attention_mask[i] = 1;
    f.token_type[i] = e.token_type[i];
  }
  f.length = e.ids.size();
  f.truncated = e.truncated;
  return f;
}

template <std::size_t S>
fixed_encoding<S> encode_fixed(const tokenizer& tok, std::string_view text, const encode_options& o = {}) {
  const auto ids = tok.encode(text);
  return pad_to<S>(apply_template(ids, std::nullopt, o.tmpl, S, o.truncate), resolve_pad(o, tok.specials()));
}

template <std::size_t S>
fixed_encoding<S> encode_pair_fixed(const tokenizer& tok, std::string_view a, std::string_view b,
                                    const encode_options& o = {}) {
  const auto ia = tok.encode(a), ib = tok.encode(b);
  return pad_to<S>(apply_template(ia, std::span<const std::int32_t>(ib), o.tmpl, S, o.truncate),
                   resolve_pad(o, tok.specials()));
}

/// Copies one encoding into row r of a batch's (B, S) tensors.
template <class Ids, class Mask, class Type, std::size_t S>
void write_row(Ids& ids, Mask& mask, Type& type, std::size_t r, const fixed_encoding<S>& e) {
  for (std::size_t j = 0; j < S; ++j) {
    ids(r, j) = e.ids[j];
    mask(r, j) = e.attention_mask[j];
    type(r, j) = e.token_type[j];
  }
}

}  // namespace ctformer
