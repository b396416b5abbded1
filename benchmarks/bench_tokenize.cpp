// Tokenizer throughput on tinyshakespeare (1.1 MB), one thread: GPT-2 byte-level BPE encoding
// with the piece cache cold (cleared before every run), warm, and off; WordPiece (BERT uncased)
// encoding; and, for scale, BPE training time. MB/s counts input bytes (MB = 1e6 bytes).
#include "bench_common.hpp"

#include <ctformer/data/tokenizers/bpe.hpp>
#include <ctformer/data/tokenizers/sentencepiece.hpp>
#include <ctformer/data/tokenizers/wordpiece.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  using namespace ctformer;
  const std::string data = argc > 1 ? argv[1] : std::string(CTFORMER_DATA_DIR);
  bench::print_machine("bench_tokenize");
  std::printf("threads:   1 (tokenizers are single-threaded)\n");
  std::printf("data:      %s\n\n", data.c_str());

  std::string text;
  try {
    text = read_text_file(data + "/tinyshakespeare/input.txt");
  } catch (const std::exception& e) {
    std::printf("skipped: %s (pass the shared data folder as the first argument)\n", e.what());
    return 0;
  }
  const double mb = double(text.size()) / 1e6;
  std::printf("input:     tinyshakespeare/input.txt, %zu bytes\n\n", text.size());

  auto t0 = bench::clock::now();
  bpe_tokenizer gpt2 = bpe_tokenizer::from_dir(data + "/gpt2-bpe");
  const double load_s = std::chrono::duration<double>(bench::clock::now() - t0).count();
  std::printf("GPT-2 BPE: loaded encoder.json + vocab.bpe in %.1f ms\n", load_s * 1e3);

  std::size_t n_tokens = 0;
  const double cold = bench::best_time([&] {
    gpt2.clear_cache();
    n_tokens = gpt2.encode(text).size();
  });
  const double warm = bench::best_time([&] { n_tokens = gpt2.encode(text).size(); });
  gpt2.set_cache_limit(0);
  const double off = bench::best_time([&] { n_tokens = gpt2.encode(text).size(); });
  gpt2.set_cache_limit(std::size_t{1} << 22);
  std::printf("GPT-2 BPE encode, cache cold (cleared each run): %7.1f MB/s  (%.1f M tokens/s, %zu tokens)\n",
              mb / cold, double(n_tokens) / cold / 1e6, n_tokens);
  std::printf("GPT-2 BPE encode, cache warm:                    %7.1f MB/s\n", mb / warm);
  std::printf("GPT-2 BPE encode, cache off:                     %7.1f MB/s\n", mb / off);

  // Line by line, as a data loader encodes examples (cache warm).
  std::vector<std::string_view> lines;
  for_each_line(text, [&](std::size_t, std::string_view l) { lines.push_back(l); });
  const double per_line = bench::best_time([&] {
    std::vector<std::int32_t> ids;
    for (auto l : lines) {
      ids.clear();
      gpt2.encode_into(l, ids);
    }
  });
  std::printf("GPT-2 BPE encode, line by line (40,000 calls):   %7.1f MB/s\n", mb / per_line);
  const auto ids = gpt2.encode(text);
  const double dec = bench::best_time([&] { (void)gpt2.decode(ids).size(); });
  std::printf("GPT-2 BPE decode:                                %7.1f MB/s\n\n", mb / dec);

  const auto bert = wordpiece_tokenizer::from_file(data + "/bert-wordpiece/vocab.txt");
  std::size_t n_pieces = 0;
  const double wp = bench::best_time([&] { n_pieces = bert.encode(text).size(); });
  std::printf("WordPiece (BERT uncased) encode:                 %7.1f MB/s  (%.1f M tokens/s, %zu tokens)\n\n",
              mb / wp, double(n_pieces) / wp / 1e6, n_pieces);

  // SentencePiece Unigram, with the 8000-piece nmt_nfkc model spm_train made (a test fixture),
  // line by line as spm_encode reads its input.
  const auto unigram = sentencepiece_tokenizer::load(std::string(CTFORMER_SOURCE_DIR) +
                                                     "/tests/spm/fixtures/shakespeare_unigram8000_nmt_nfkc.model");
  std::size_t n_unigram = 0;
  const double uni = bench::best_time([&] {
    n_unigram = 0;
    for (auto l : lines) n_unigram += unigram.encode(l).size();
  });
  std::printf("SentencePiece Unigram encode (8000, nmt_nfkc):   %7.1f MB/s  (%.1f M tokens/s, %zu tokens)\n\n",
              mb / uni, double(n_unigram) / uni / 1e6, n_unigram);

  bpe_train_options opt;
  opt.vocab_size = 4096;
  t0 = bench::clock::now();
  const auto trained = bpe_tokenizer::train(text, opt);
  const double train_s = std::chrono::duration<double>(bench::clock::now() - t0).count();
  std::printf("BPE training to %zu tokens on the same text: %.2f s\n", trained.vocab_size(), train_s);
  return 0;
}
