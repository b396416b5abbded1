// bench_quant: int8 post-training quantization and 50% magnitude pruning of the shakespeare_char
// model (examples/shakespeare_char: 4 layers, 4 heads, d_model 128, context 64, vocabulary 65).
//
//   bench_quant [--text FILE] [--model PREFIX] [--runs N] [--sparsity X] [--prune-steps N]
//
// With --model, the weights come from PREFIX.safetensors (written by `shakespeare_char --save
// PREFIX`); without it the model is first trained here with the example's code and settings
// (2000 steps, a few minutes). It then prints:
//   quality   validation loss (every position of the last 10% of the text) of fp32 and int8;
//   size      bytes of the weights in memory and of the safetensors files, fp32 and int8;
//   speed     inference tokens/s of fp32 and int8 forward passes at batch 12 x 64 (the whole
//             validation split) and batch 1 x 64, at 1 and 2 threads, best of N runs;
//   pruning   every weight matrix pruned to the target sparsity by magnitude, then a short
//             fine-tune with the mask held, against the dense validation loss.
// Goals (issue 7): int8 loss +<= 1%, weights ~4x smaller, int8 faster; pruned loss within 3%.
#include <ctformer/deploy/prune.hpp>
#include <ctformer/deploy/quantize.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "../examples/shakespeare_char/shakespeare.hpp"
#include "bench_common.hpp"

using namespace ctformer;
namespace b = ctformer::bench;
namespace sc = shakespeare_char;
namespace fs = std::filesystem;

namespace {

using model = decoder_lm<sc::model_config<65>>;
using qmodel = quantized_lm<model>;
constexpr std::size_t Bt = sc::batch_size, S = sc::context;
using batch12 = token_batch<Bt, S>;
using batch1 = token_batch<1, S>;

// The validation split in batches of 12 windows (the last batch padded with ignored rows).
std::vector<batch12> validation_batches(const sc::corpus& c) {
  const lm_stream stream(c.val);
  std::vector<batch12> out(sc::validation_batch_count<batch12>(stream));
  for (std::size_t i = 0; i < out.size(); ++i) sc::fill_validation_batch(out[i], stream, i);
  return out;
}

// Mean cross-entropy over every target of the batches.
template <class M, class P, class WS>
double mean_loss(const P& p, WS& ws, const std::vector<batch12>& batches) {
  double sum = 0;
  std::size_t n = 0;
  for (const auto& bt : batches) {
    const loss_value lv = M::forward_loss(p, ws, bt);
    sum += lv.loss * double(lv.count);
    n += lv.count;
  }
  return sum / double(n);
}

template <class F>
double best_seconds(int runs, F&& fn) {
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = b::clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(b::clock::now() - t0).count());
  }
  return best;
}

std::size_t file_bytes(const std::string& path) { return std::size_t(fs::file_size(path)); }

[[noreturn]] void usage(int code) {
  std::printf(
      "bench_quant [--text FILE] [--model PREFIX] [--runs N] [--sparsity X] [--prune-steps N]\n"
      "  --text FILE        the text (default: %s/tinyshakespeare/input.txt)\n"
      "  --model PREFIX     load PREFIX.safetensors (from `shakespeare_char --save PREFIX`) instead of training\n"
      "  --runs N           timing runs, best kept (default 5)\n"
      "  --sparsity X       unstructured sparsity of every weight matrix (default 0.5)\n"
      "  --prune-steps N    fine-tuning steps after pruning, mask held (default 200)\n",
      CTFORMER_DATA_DIR);
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  std::string text = std::string(CTFORMER_DATA_DIR) + "/tinyshakespeare/input.txt", prefix;
  int runs = 5;
  double sparsity = 0.5;
  long prune_steps = 200;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") usage(0);
    if (i + 1 >= argc) usage(2);
    const char* v = argv[++i];
    if (a == "--text") text = v;
    else if (a == "--model") prefix = v;
    else if (a == "--runs") runs = std::max(1, std::atoi(v));
    else if (a == "--sparsity") sparsity = std::atof(v);
    else if (a == "--prune-steps") prune_steps = std::atol(v);
    else usage(2);
  }
  try {
    b::print_machine("bench_quant: int8 quantization and pruning of the shakespeare_char model");
    const sc::corpus c = sc::load(text);
    if (c.tokenizer.vocab_size() > 65) fail("'{}' has more than 65 distinct characters", text);
    std::printf("model:     %s, %zu parameters\n", model::describe().c_str(), model::param_count);

    // ---- the trained fp32 model ---------------------------------------------------------------
    auto p = std::make_unique<model::params>();
    if (prefix.empty()) {
      prefix = (fs::temp_directory_path() / "ctformer_bench_quant").string();
      sc::settings s;
      s.sample_chars = 0;
      s.save_prefix = prefix;
      s.progress = progress_bar::style::lines;
      s.log_every = 500;
      std::printf("training:  %ld steps with shakespeare_char's settings (pass --model to skip)\n", s.iterations);
      const sc::result r = sc::train(c, s);
      std::printf("trained:   validation loss %.4f, %.1f s\n", r.val_loss, r.train_seconds);
    }
    load_weights(prefix + ".safetensors", *p);
    std::printf("weights:   %s.safetensors\n", prefix.c_str());

    const std::vector<batch12> val = validation_batches(c);
    auto ws = std::make_unique<model::workspace<Bt, S>>();
    auto qws = std::make_unique<qmodel::workspace<Bt, S>>();
    auto q = std::make_unique<qmodel::params>();
    qmodel::quantize(*p, *q);

    // ---- quality ------------------------------------------------------------------------------
    set_num_threads(1);
    const double dense = mean_loss<model>(*p, *ws, val);
    const double quant = mean_loss<qmodel>(*q, *qws, val);
    const double qrise = 100.0 * (quant - dense) / dense;
    std::printf("\nquality (validation loss, %zu windows of %zu):\n", c.val.size() / S, S);
    std::printf("  fp32 %.4f   int8 %.4f   change %+.2f%% (goal <= +1%%)\n", dense, quant, qrise);

    // ---- size ---------------------------------------------------------------------------------
    const std::string f32 = (fs::temp_directory_path() / "ctformer_bench_quant_fp32.safetensors").string();
    const std::string i8 = (fs::temp_directory_path() / "ctformer_bench_quant_int8.safetensors").string();
    save_weights(f32, *p);
    save_weights(i8, *q, {.layout = weight_layout::native});
    {  // the int8 file loads back to the same model
      auto q2 = std::make_unique<qmodel::params>();
      load_weights(i8, *q2, {.layout = weight_layout::native});
      if (std::memcmp(q.get(), q2.get(), sizeof(*q)) != 0) fail("the int8 safetensors file did not load back exactly");
    }
    std::printf("\nsize:\n  %-22s %12s %12s %8s\n", "", "fp32", "int8", "ratio");
    std::printf("  %-22s %12zu %12zu %7.2fx\n", "weights in memory (B)", model::weight_bytes, qmodel::weight_bytes,
                double(model::weight_bytes) / double(qmodel::weight_bytes));
    std::printf("  %-22s %12zu %12zu %7.2fx\n", "safetensors file (B)", file_bytes(f32), file_bytes(i8),
                double(file_bytes(f32)) / double(file_bytes(i8)));
    std::remove(f32.c_str());
    std::remove(i8.c_str());

    // ---- speed --------------------------------------------------------------------------------
    auto one = std::make_unique<batch1>();
    for (std::size_t j = 0; j < S; ++j) {
      one->ids(0, j) = c.val[j];
      one->targets(0, j) = c.val[j + 1];
      one->attention_mask(0, j) = 1;
      one->token_type(0, j) = 0;
    }
    auto ws1 = std::make_unique<model::workspace<1, S>>();
    auto qws1 = std::make_unique<qmodel::workspace<1, S>>();
    const std::size_t val_tokens = val.size() * Bt * S;
    constexpr int single_reps = 200;
    std::printf("\nspeed (inference forward passes, tokens/s, best of %d):\n", runs);
    std::printf("  %-8s %-16s %12s %12s %8s\n", "threads", "batch", "fp32", "int8", "int8/fp32");
    for (unsigned threads : {1u, 2u}) {
      set_num_threads(threads);
      const double tf = best_seconds(runs, [&] { for (const auto& bt : val) model::forward(*p, *ws, bt); });
      const double tq = best_seconds(runs, [&] { for (const auto& bt : val) qmodel::forward(*q, *qws, bt); });
      std::printf("  %-8u %-16s %12.0f %12.0f %7.2fx\n", threads, "12 x 64 (val)", double(val_tokens) / tf,
                  double(val_tokens) / tq, tf / tq);
      const double sf = best_seconds(runs, [&] { for (int r = 0; r < single_reps; ++r) model::forward(*p, *ws1, *one); });
      const double sq = best_seconds(runs, [&] { for (int r = 0; r < single_reps; ++r) qmodel::forward(*q, *qws1, *one); });
      std::printf("  %-8u %-16s %12.0f %12.0f %7.2fx\n", threads, "1 x 64", double(single_reps * S) / sf,
                  double(single_reps * S) / sq, sf / sq);
    }

    // ---- pruning ------------------------------------------------------------------------------
    // The pruned model is fine-tuned with its mask held; the dense model gets the same steps, data
    // and schedule, so the comparison separates pruning from the extra training.
    set_num_threads(1);
    struct tuned_run {
      double before = 0, after = 0, seconds = 0;
      sparsity_report sparsity_before, sparsity_after;
    };
    auto fine_tune = [&](bool prune) {
      tuned_run out;
      adamw opt;
      opt.lr = 3e-4;
      opt.beta2 = 0.99;
      opt.weight_decay = 0.1;
      opt.decay.embeddings = true;
      trainer<model, adamw, warmup_cosine> t(
          opt, warmup_cosine{.lr = 3e-4, .warmup = std::min(20L, prune_steps / 10), .total = std::max(1L, prune_steps), .min_lr = 1e-4},
          train_options{.clip = 1.0, .seed = 7});
      t.weights() = *p;
      if (prune) {
        auto mask = full_mask<model::params>();
        prune_magnitude(t.weights(), *mask, sparsity);
        t.set_mask(std::move(mask));
      }
      out.sparsity_before = measure_sparsity(t.weights());
      out.before = out.after = mean_loss<model>(t.weights(), *ws, val);
      if (prune_steps > 0) {
        rng data(11);
        function_source<batch12> train(std::size_t(prune_steps),
                                       [&](std::size_t, batch12& bt) { sc::fill_random_windows(bt, c.train, data); });
        fit_options o;
        o.max_steps = prune_steps;
        o.eval_every = 0;
        o.restore_best = false;
        o.progress = progress_bar::style::quiet;
        out.seconds = t.fit(train, static_cast<batch_source<batch12>*>(nullptr), o).seconds;
        out.after = mean_loss<model>(t.weights(), *ws, val);
      }
      out.sparsity_after = measure_sparsity(t.weights());
      return out;
    };
    const tuned_run pruned = fine_tune(true), dense_more = fine_tune(false);
    auto pct = [&](double x, double ref) { return 100 * (x - ref) / ref; };
    std::printf("\npruning (unstructured magnitude, every weight matrix; fine-tuning: %ld steps, lr 3e-4 -> 1e-4):\n",
                prune_steps);
    std::printf("  sparsity of the weight matrices %.1f%% (after fine-tuning %.1f%%; %.1f%% of all parameters)\n",
                100 * pruned.sparsity_before.weights, 100 * pruned.sparsity_after.weights, 100 * pruned.sparsity_after.all);
    std::printf("  validation loss: dense %.4f; pruned %.4f (%+.2f%%); pruned + fine-tuning %.4f (%+.2f%%, goal within 3%%; %.1f s)\n",
                dense, pruned.before, pct(pruned.before, dense), pruned.after, pct(pruned.after, dense), pruned.seconds);
    std::printf("  the dense model with the same fine-tuning: %.4f; pruned + fine-tuned against it: %+.2f%%\n",
                dense_more.after, pct(pruned.after, dense_more.after));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_quant: %s\n", e.what());
    return 1;
  }
}
