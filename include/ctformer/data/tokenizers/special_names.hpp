// Recognises special tokens by their conventional spellings ([CLS], <pad>, <|endoftext|>, ...)
// so that every tokenizer fills ctformer::special_tokens the same way from its vocabulary.
// GPT-2's <|endoftext|> serves as both bos and eos, as in GPT-2 itself.
#pragma once

#include <cstdint>
#include <string_view>

#include "tokenizer.hpp"

namespace ctformer {

/// Records id in the field that `name` denotes; returns false when the name is not a known one.
inline bool assign_special(special_tokens& s, std::string_view name, std::int32_t id) {
  auto is = [&](std::initializer_list<std::string_view> names) {
    for (auto n : names)
      if (n == name) return true;
    return false;
  };
  if (is({"[PAD]", "<pad>", "<PAD>", "<|pad|>"})) s.pad = id;
  else if (is({"[UNK]", "<unk>", "<UNK>", "<|unk|>"})) s.unk = id;
  else if (is({"[CLS]", "<cls>", "<CLS>"})) s.cls = id;
  else if (is({"[SEP]", "<sep>", "<SEP>"})) s.sep = id;
  else if (is({"[MASK]", "<mask>", "<MASK>"})) s.mask = id;
  else if (is({"<s>", "<bos>", "<BOS>", "[BOS]", "<|startoftext|>"})) s.bos = id;
  else if (is({"</s>", "<eos>", "<EOS>", "[EOS]"})) s.eos = id;
  else if (name == "<|endoftext|>") {
    if (s.eos < 0) s.eos = id;
    if (s.bos < 0) s.bos = id;
  } else {
    return false;
  }
  return true;
}

}  // namespace ctformer
