// English -> French with an encoder-decoder Transformer, trained on the shared Tatoeba pairs.
// Pairs are split by English sentence (every translation of a held-out sentence is held out),
// byte-level BPE vocabularies are learned on the training side only, and the model trains with
// label smoothing and early stopping on validation BLEU. The held-out test set is scored with
// corpus BLEU (sacreBLEU 13a) against all its reference translations, for greedy decoding and for
// beam search; a few translations are printed.
// Usage: translate [--help] for the options; the defaults are the documented run.
#include <ctformer/base/cli.hpp>
#include <ctformer/ctformer.hpp>
#include <ctformer/deploy/seq2seq_decode.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>


using namespace ctformer;
namespace m = ctformer::metrics;
namespace fs = std::filesystem;

namespace {

// Sources are at most 13 BPE tokens (+ eos); 99% of the targets fit 15 tokens + eos while
// training, and decoding may run to the model's full target context.
constexpr std::size_t V = 2000;
constexpr std::size_t Ss = 16, St = 16, St_decode = 24;
constexpr std::size_t B = 64;
constexpr std::size_t K = 32;  // rows decoded at once (greedy batch, or the widest beam)
constexpr seq2seq_config cfg{.src_vocab = V, .tgt_vocab = V, .src_context = Ss, .tgt_context = St_decode,
                             .d_model = 128, .heads = 4, .d_ff = 512, .enc_layers = 2, .dec_layers = 2,
                             .dropout = 0.1f};
using model = seq2seq<cfg>;
using batch_t = seq2seq_batch<B, Ss, St>;
using scorer_t = seq2seq_scorer<model, K, Ss, St_decode>;

struct options {
  fs::path data = fs::path("../shared/data") / "translation" / "eng-fra.20k.tsv";
  fs::path out = ".";
  long steps = 1500;
  double lr = 1e-3;
  long eval_every = 250;
  long patience = 4;
  std::size_t beam = 5;
  double length_penalty = 0.6;
  std::size_t val_sentences = 300;  // validation BLEU (greedy) on this many sentences
  std::size_t test_sentences = 0;   // score only this many test sentences, evenly spaced (0: all)
  std::string weights;              // skip training; load these weights
  std::uint64_t seed = 1;
};

[[noreturn]] void usage(int code) {
  std::printf(
      "translate: English -> French encoder-decoder, held-out BLEU with greedy and beam search\n"
      "  --data FILE          english<TAB>french pairs (default %s/translation/eng-fra.20k.tsv)\n"
      "  --out DIR            where the weights, vocabularies and JSON report go (default .)\n"
      "  --steps N            most training steps (default 1500)\n"
      "  --lr X               peak learning rate (default 1e-3)\n"
      "  --eval-every N       steps between validation BLEU checks (default 250)\n"
      "  --patience N         early stopping on validation BLEU (default 4; 0 = off)\n"
      "  --beam N             beam width, 1..%zu (default 5)\n"
      "  --length-penalty A   GNMT length penalty alpha (default 0.6)\n"
      "  --val-sentences N    validation BLEU on N evenly spaced validation sentences (default 300)\n"
      "  --test-sentences N   score N evenly spaced test sentences (default 0: the whole test split)\n"
      "  --weights FILE       skip training; load these weights (vocabularies are retrained identically)\n"
      "  --seed N             initialisation, dropout and data order (default 1)\n",
      "../shared/data", K);
  std::exit(code);
}

options parse(int argc, char** argv) {
  options o;
  ctformer::cli::arg_reader args(argc, argv, usage);
  while (args.next()) {
    if (args.is("--data")) o.data = args.text();
    else if (args.is("--out")) o.out = args.text();
    else if (args.is("--steps")) o.steps = args.integer();
    else if (args.is("--lr")) o.lr = args.real();
    else if (args.is("--eval-every")) o.eval_every = args.integer();
    else if (args.is("--patience")) o.patience = args.integer();
    else if (args.is("--beam")) o.beam = args.count();
    else if (args.is("--length-penalty")) o.length_penalty = args.real();
    else if (args.is("--val-sentences")) o.val_sentences = args.count();
    else if (args.is("--test-sentences")) o.test_sentences = args.count();
    else if (args.is("--weights")) o.weights = args.text();
    else if (args.is("--seed")) o.seed = args.u64();
    else args.unknown();
  }
  if (o.beam == 0 || o.beam > K || o.steps <= 0 || o.val_sentences == 0) usage(2);
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One held-out English sentence with every French translation the file gives it.
struct test_item {
  std::string source;
  std::vector<std::int32_t> ids;
  std::vector<std::string> references;
};

std::vector<test_item> group_items(const pair_set& pairs, const std::vector<std::size_t>& idx, const tokenizer& tok) {
  std::map<std::string, std::size_t> at;
  std::vector<test_item> items;
  for (auto i : idx) {
    auto [it, fresh] = at.emplace(pairs.sources[i], items.size());
    if (fresh) items.push_back({pairs.sources[i], tok.encode(pairs.sources[i]), {}});
    items[it->second].references.push_back(pairs.targets[i]);
  }
  return items;
}

// Greedy translations of every item, K sources per batch.
std::vector<std::vector<std::int32_t>> translate_greedy(scorer_t& sc, const std::vector<test_item>& items,
                                                        std::int32_t eos) {
  std::vector<std::vector<std::int32_t>> out;
  decode_options o;
  o.eos = eos;
  std::vector<std::vector<std::int32_t>> chunk;
  for (std::size_t i = 0; i < items.size(); i += K) {
    chunk.clear();
    for (std::size_t j = i; j < std::min(items.size(), i + K); ++j) chunk.push_back(items[j].ids);
    sc.set_sources(chunk);
    for (auto& h : greedy_decode(sc, chunk.size(), o)) out.push_back(std::move(h.tokens));
  }
  return out;
}

std::vector<std::vector<std::int32_t>> translate_beam(scorer_t& sc, const std::vector<test_item>& items,
                                                      std::int32_t eos, std::size_t beam, double alpha) {
  std::vector<std::vector<std::int32_t>> out;
  beam_options o;
  o.eos = eos;
  o.beam = beam;
  o.length_penalty = alpha;
  for (const auto& it : items) {
    sc.set_source(it.ids);
    out.push_back(beam_search(sc, o)[0].tokens);
  }
  return out;
}

// Corpus BLEU against all references (and, for comparison, against the first reference only).
struct bleu_pair {
  double multi = 0, single = 0;
};
bleu_pair score(const std::vector<std::vector<std::int32_t>>& hyp_ids, const std::vector<test_item>& items,
                const tokenizer& tok, std::vector<std::string>* text = nullptr) {
  std::vector<std::string> hyps, first;
  std::vector<std::vector<std::string>> refs;
  for (std::size_t i = 0; i < items.size(); ++i) {
    hyps.push_back(tok.decode(hyp_ids[i]));
    refs.push_back(items[i].references);
    first.push_back(items[i].references.front());
  }
  bleu_pair b;
  b.multi = m::corpus_bleu(hyps, refs).score;
  b.single = m::corpus_bleu(hyps, first).score;
  if (text) *text = std::move(hyps);
  return b;
}

}  // namespace

int main(int argc, char** argv) try {
  const options o = parse(argc, argv);
  const auto t_start = std::chrono::steady_clock::now();
  fs::create_directories(o.out);
  std::printf("translate: seq2seq %zu+%zu layers, d_model %zu, %zu parameters; %u thread(s), simd %s\n",
              cfg.enc_layers, cfg.dec_layers, cfg.d_model, model::param_count, num_threads(),
              std::string(kernels::simd_arch_name()).c_str());

  // ---- data, split by English sentence: 85% train, 5% validation, 10% test ----------------------
  const pair_set pairs = load_pairs_tsv(o.data.string());
  std::map<std::string, std::size_t> group_of;
  std::vector<std::size_t> group(pairs.sources.size());
  for (std::size_t i = 0; i < pairs.sources.size(); ++i)
    group[i] = group_of.emplace(pairs.sources[i], group_of.size()).first->second;
  const index_split gs = random_split(group_of.size(), split_fractions{.validation = 0.05, .test = 0.10}, 2024);
  std::vector<int> part_of_group(group_of.size());
  for (auto g : gs.validation) part_of_group[g] = 1;
  for (auto g : gs.test) part_of_group[g] = 2;
  std::vector<std::size_t> train_idx, val_idx, test_idx;
  for (std::size_t i = 0; i < group.size(); ++i)
    (part_of_group[group[i]] == 0 ? train_idx : part_of_group[group[i]] == 1 ? val_idx : test_idx).push_back(i);
  std::printf("%zu pairs, %zu distinct English sentences -> train %zu pairs, validation %zu, test %zu (%zu sentences)\n",
              pairs.sources.size(), group_of.size(), train_idx.size(), val_idx.size(), test_idx.size(), gs.test.size());

  // ---- tokenizers: byte-level BPE learned on the training pairs only ---------------------------
  auto t0 = std::chrono::steady_clock::now();
  std::string en_text, fr_text;
  for (auto i : train_idx) {
    (en_text += pairs.sources[i]) += '\n';
    (fr_text += pairs.targets[i]) += '\n';
  }
  bpe_train_options bo;
  bo.vocab_size = V;
  bo.specials = {"<pad>", "<s>", "</s>"};
  const bpe_tokenizer en = bpe_tokenizer::train(en_text, bo), fr = bpe_tokenizer::train(fr_text, bo);
  const special_tokens &se = en.specials(), &sf = fr.specials();
  // fill_batch pads and ends sources with the target's ids, so both vocabularies must agree on them.
  if (en.vocab_size() != V || fr.vocab_size() != V || se.eos != sf.eos || se.pad != sf.pad)
    fail("BPE: vocabularies of {} and {} tokens, specials differ", en.vocab_size(), fr.vocab_size());
  const seq2seq_specials sp{sf.bos, sf.eos, sf.pad};
  std::printf("BPE: English and French vocabularies of %zu tokens each, learned in %.1f s\n", V, seconds_since(t0));

  std::vector<seq2seq_example> train;
  std::size_t cut = 0;
  for (auto i : train_idx) {
    train.push_back({en.encode(pairs.sources[i]), fr.encode(pairs.targets[i])});
    cut += train.back().target.size() + 1 > St || train.back().source.size() + 1 > Ss;
  }
  std::printf("training pairs truncated to %zu source / %zu target tokens: %zu of %zu\n", Ss, St, cut, train.size());
  const auto val_items = group_items(pairs, val_idx, en);
  // Subsets are evenly spaced, because the file (and so each split) is sorted by English length.
  auto spaced = [](const std::vector<test_item>& items, std::size_t n) {
    if (n == 0 || n >= items.size()) return items;
    std::vector<test_item> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(items[i * items.size() / n]);
    return out;
  };
  const auto test_items = spaced(group_items(pairs, test_idx, en), o.test_sentences);
  const auto val_subset = spaced(val_items, o.val_sentences);

  // ---- training ------------------------------------------------------------------------------
  adamw opt;
  opt.lr = o.lr;
  opt.beta2 = 0.98;
  opt.weight_decay = 0.01;
  const long warmup = std::max(1L, o.steps / 15);
  trainer<model, adamw, warmup_cosine> t(
      opt, warmup_cosine{.lr = o.lr, .warmup = warmup, .total = o.steps, .min_lr = o.lr / 20},
      train_options{.clip = 1.0, .label_smoothing = 0.1, .seed = o.seed});
  auto sc = std::make_unique<scorer_t>(t.weights(), sp);
  double train_seconds = 0;
  long trained_steps = 0;
  if (o.weights.empty()) {
    std::vector<batch_rows<B>> plan;
    auto reshuffle = [&](std::size_t epoch) {
      const auto order = shuffled_indices(train.size(), o.seed * 7919 + epoch);
      plan = make_batches<B>(std::span<const std::size_t>(order), last_batch::drop);
    };
    reshuffle(0);
    function_source<batch_t> src(
        plan.size(), [&](std::size_t i, batch_t& b) { fill_batch(b, std::span<const seq2seq_example>(train), plan[i], sp); },
        reshuffle);
    fit_options fo;
    fo.max_steps = o.steps;
    fo.eval_every = o.eval_every;
    fo.patience = o.patience;
    fo.mode = stop_mode::max;
    // Validation BLEU by greedy decoding with the current weights (the scorer reads them in place).
    fo.validation_score = [&] { return score(translate_greedy(*sc, val_subset, sp.eos), val_subset, fr).multi; };
    fo.log_every = 50;
    fo.progress = progress_bar::style::lines;
    fo.log_path = (o.out / "translate_log.jsonl").string();
    fo.save_path = (o.out / "translate.safetensors").string();
    const auto fr_res = t.fit(src, static_cast<batch_source<batch_t>*>(nullptr), fo);
    if (fr_res.interrupted) fail("interrupted after {} steps; {} was not written", fr_res.steps, fo.save_path);
    train_seconds = fr_res.seconds;
    trained_steps = fr_res.steps;
    std::printf("trained %ld steps (batch %zu, %.1f epochs) in %.1f s; best validation BLEU %.2f at step %ld%s; "
                "saved %s\n",
                fr_res.steps, B, double(fr_res.steps * long(B)) / double(train.size()), fr_res.seconds,
                fr_res.best_score, fr_res.best_step, fr_res.stopped_early ? " (stopped early)" : "",
                fo.save_path.c_str());
  } else {
    load_weights(o.weights, t.weights());
    std::printf("weights loaded from %s\n", o.weights.c_str());
  }

  // ---- held-out BLEU: greedy and beam search ------------------------------------------------
  t0 = std::chrono::steady_clock::now();
  std::vector<std::string> greedy_text;
  const auto greedy_ids = translate_greedy(*sc, test_items, sp.eos);
  const bleu_pair g = score(greedy_ids, test_items, fr, &greedy_text);
  const double greedy_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  std::vector<std::string> beam_text;
  const auto beam_ids = translate_beam(*sc, test_items, sp.eos, o.beam, o.length_penalty);
  const bleu_pair bm = score(beam_ids, test_items, fr, &beam_text);
  const double beam_seconds = seconds_since(t0);

  std::printf("\nexamples from the test split:\n");
  const std::size_t shown = std::min<std::size_t>(8, test_items.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const std::size_t k = i * test_items.size() / shown;
    std::printf("  EN     %s\n  REF    %s\n  greedy %s\n  beam   %s\n\n", test_items[k].source.c_str(),
                test_items[k].references.front().c_str(), greedy_text[k].c_str(), beam_text[k].c_str());
  }
  m::metric_set res;
  res.set("BLEU greedy (all references)", g.multi);
  res.set(fmt::format("BLEU beam {} alpha {} (all references)", o.beam, o.length_penalty), bm.multi);
  res.set("BLEU greedy (first reference)", g.single);
  res.set(fmt::format("BLEU beam {} (first reference)", o.beam), bm.single);
  res.set("decode seconds greedy", greedy_seconds);
  res.set("decode seconds beam", beam_seconds);
  m::report_options ro;
  std::size_t references = 0;
  for (const auto& it : test_items) references += it.references.size();
  ro.title = fmt::format("test split: {} English sentences, {} references (corpus BLEU, 13a)", test_items.size(),
                         references);
  ro.digits = 2;
  m::report(res, ro);
  json::value doc = json::object{};
  doc.set("title", ro.title);
  doc.set("model", model::describe());
  doc.set("steps", trained_steps);
  doc.set("train_seconds", train_seconds);
  doc.set("metrics", res.to_json());
  m::write_json_file((o.out / "translate.json").string(), doc);
  std::printf("total %.1f s\n", seconds_since(t_start));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "translate: %s\n", e.what());
  return 1;
}
