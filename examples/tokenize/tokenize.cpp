// Reads JSON lines {"text": ...} on stdin and writes JSON lines {"ids": [...]} in the same order,
// with GPT-2's BPE (--gpt2 DIR holding encoder.json and vocab.bpe) or BERT uncased WordPiece
// (--bert-vocab FILE) or a SentencePiece model (--spm FILE.model). --specials adds [CLS] ... [SEP]
// (BERT), <|endoftext|> before the text (GPT-2, whose bos is <|endoftext|>) or the model's bos/eos
// (SentencePiece). Every input line gives one output line (a blank line: empty ids). Bad input
// stops with the line number on stderr, exit 1.
#include <ctformer/data/encode.hpp>
#include <ctformer/data/tokenizers/bpe.hpp>
#include <ctformer/data/tokenizers/sentencepiece.hpp>
#include <ctformer/data/tokenizers/wordpiece.hpp>
#include <ctformer/io/json.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

namespace {
int usage() {
  std::fprintf(stderr, "usage: tokenize (--gpt2 DIR | --bert-vocab FILE | --spm FILE.model) [--specials] < in.jsonl > out.jsonl\n");
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  std::string gpt2_dir, bert_vocab, spm_model;
  bool specials = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--gpt2") && i + 1 < argc) gpt2_dir = argv[++i];
    else if (!std::strcmp(argv[i], "--bert-vocab") && i + 1 < argc) bert_vocab = argv[++i];
    else if (!std::strcmp(argv[i], "--spm") && i + 1 < argc) spm_model = argv[++i];
    else if (!std::strcmp(argv[i], "--specials")) specials = true;
    else return usage();
  }
  if (int(!gpt2_dir.empty()) + int(!bert_vocab.empty()) + int(!spm_model.empty()) != 1) return usage();

  std::unique_ptr<ctformer::tokenizer> tok;
  ctformer::sequence_template tmpl;
  try {
    if (!gpt2_dir.empty()) {
      tok = std::make_unique<ctformer::bpe_tokenizer>(ctformer::bpe_tokenizer::from_dir(gpt2_dir));
      if (specials) tmpl.prefix = {tok->specials().bos};
    } else if (!spm_model.empty()) {
      tok = ctformer::load_sentencepiece(spm_model);
      if (specials) tmpl = ctformer::sequence_template::gpt(tok->specials());
    } else {
      tok = std::make_unique<ctformer::wordpiece_tokenizer>(ctformer::wordpiece_tokenizer::from_file(bert_vocab));
      if (specials) tmpl = ctformer::sequence_template::bert(tok->specials());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenize: %s\n", e.what());
    return 1;
  }

  std::ios::sync_with_stdio(false);
  std::string line, out;
  std::size_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    // One output line per input line: an empty (or blank) line gives empty ids.
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      std::cout << "{\"ids\": []}\n";
      continue;
    }
    try {
      const auto doc = ctformer::json::parse(line);
      const auto ids = tok->encode(doc.at("text").as_string());
      const auto enc = ctformer::apply_template(ids, std::nullopt, tmpl, ids.size() + tmpl.overhead(false));
      out = "{\"ids\": [";
      for (std::size_t i = 0; i < enc.ids.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(enc.ids[i]);
      }
      out += "]}\n";
      std::cout << out;
    } catch (const std::exception& e) {
      std::cout.flush();
      std::fprintf(stderr, "tokenize: stdin line %zu: %s\n", line_no, e.what());
      return 1;
    }
  }
  return 0;
}
