// SentencePiece encoding throughput over tinyshakespeare, one thread: MB of input text per second
// for Unigram models (1000 and 8000 pieces, nmt_nfkc and identity) and the BPE model, line by
// line as spm_encode reads it; normalization alone; and, when installed, spm_encode itself on the
// same file (its time includes process start-up, model loading and writing the ids).
#include <ctformer/data/tokenizers/sentencepiece.hpp>

#include "bench_common.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace ctformer;

namespace {

std::vector<std::string> read_lines(const fs::path& p, std::size_t& bytes) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> lines;
  bytes = 0;
  for (std::string l; std::getline(in, l);) {
    bytes += l.size() + 1;
    lines.push_back(std::move(l));
  }
  return lines;
}

bool have_spm_encode() { return std::system("command -v spm_encode > /dev/null 2>&1") == 0; }

}  // namespace

int main(int argc, char** argv) {
  const fs::path fixtures = argc > 1 ? fs::path(argv[1]) : fs::path(__FILE__).parent_path().parent_path() / "tests" / "spm" / "fixtures";
  const fs::path corpus = argc > 2 ? fs::path(argv[2]) : fs::path(CTFORMER_DATA_DIR) / "tinyshakespeare" / "input.txt";
  bench::print_machine("bench_spm_encode: SentencePiece encoding, single thread");
  std::printf("threads:   1\ncorpus:    %s\nmodels:    %s\n\n", corpus.string().c_str(), fixtures.string().c_str());
  if (!fs::exists(corpus)) {
    std::printf("corpus not found (pass: bench_spm_encode FIXTURE_DIR CORPUS)\n");
    return 1;
  }
  std::size_t bytes = 0;
  const auto lines = read_lines(corpus, bytes);
  const double mb = double(bytes) / 1e6;
  const bool spm = have_spm_encode();
  std::printf("%-34s %10s %10s %12s %14s %10s\n", "model", "MB/s", "ids", "bytes/token", "spm_encode MB/s", "ratio");
  for (const char* name : {"shakespeare_unigram8000_nmt_nfkc", "shakespeare_unigram8000_identity",
                           "shakespeare_unigram1000_nmt_nfkc", "shakespeare_unigram1000_identity",
                           "french_bpe1000_identity"}) {
    const fs::path model = fixtures / (std::string(name) + ".model");
    const auto tok = sentencepiece_tokenizer::load(model);
    std::size_t ids = 0;
    const double s = bench::best_time([&] {
      ids = 0;
      for (const auto& l : lines) ids += tok.encode(l).size();
    }, 1.0);
    double spm_mbs = 0;
    if (spm) {
      const std::string cmd = "spm_encode --model='" + model.string() + "' --output_format=id < '" + corpus.string() +
                              "' > /dev/null";
      double best = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        if (std::system(cmd.c_str()) != 0) break;
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      spm_mbs = best < 1e29 ? mb / best : 0;
    }
    std::printf("%-34s %10.2f %10zu %12.3f %14.2f %9.2fx\n", name, mb / s, ids, double(bytes) / double(ids), spm_mbs,
                spm_mbs > 0 ? (mb / s) / spm_mbs : 0.0);
  }
  const auto tok = sentencepiece_tokenizer::load(fixtures / "shakespeare_unigram8000_nmt_nfkc.model");
  std::string out;
  const double s = bench::best_time([&] {
    for (const auto& l : lines) out = tok.normalize(l);
  }, 1.0);
  std::printf("\nnmt_nfkc normalization alone: %.2f MB/s\n", mb / s);
  if (!spm) std::printf("spm_encode not installed: no comparison (Debian package sentencepiece)\n");
  return 0;
}
