// Pretrain, then fine-tune: a small BERT-like encoder learns masked-language modelling on
// tinyshakespeare and the sentiment sentences' text (test sentences excluded), and its body then
// initialises a sentiment classifier. The same classifier trained from scratch, with the same
// fine-tuning data, steps, batches, optimizer, learning rate and early-stopping rule, is the
// baseline. Test accuracy and F1 are reported per seed and as mean ± std over seeds. The pretrained
// embedding tables are brought back to the initialisation's scale before fine-tuning (an exact
// reparametrisation under the embedding LayerNorm; see finetune()).
// Usage: finetune_sentiment [--help] for the options; the defaults are the documented run.
#include <ctformer/ctformer.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using namespace ctformer;
namespace m = ctformer::metrics;
namespace fs = std::filesystem;

namespace {

// ---- the model: one config, two heads --------------------------------------------------------
// A small WordPiece vocabulary keeps the MLM softmax learnable in a few CPU minutes: with 4,000
// tokens the pretraining loss stayed near the unigram entropy.
constexpr std::size_t V = 2000;
constexpr std::size_t S = 48;  // [CLS] + up to 46 tokens + [SEP] while fine-tuning
constexpr std::size_t B = 32;
constexpr std::size_t Sp = 32, Bp = 32;  // pretraining rows: [CLS] + 30 tokens + [SEP]
constexpr bert_config cfg{.vocab = V, .context = S, .d_model = 128, .heads = 4, .d_ff = 256, .layers = 2,
                          .norm = norm_placement::pre, .dropout = 0.1f};
// Pretraining runs without dropout (a short run on little text underfits rather than overfits).
// The body goes to the classifier through the weights file, by tensor name, so the dropout rate
// may differ between the two configs.
constexpr bert_config pre_cfg = [] {
  auto c = cfg;
  c.dropout = 0.0f;
  return c;
}();
using mlm_model = encoder<pre_cfg, mlm_sparse>;  // the MLM head only at masked positions (same weights as mlm)
// The classifier averages the final hidden states of the real tokens (--pooling mean, the default,
// in both arms) or reads BERT's [CLS] position through a tanh pooler (--pooling cls).
template <pooling Pool>
using classifier_t = encoder<cfg, classify<2, Pool>>;
using classifier = classifier_t<pooling::mean>;
using token_batch_t = token_batch<Bp, Sp>;
using class_batch_t = classification_batch<B, S>;

struct options {
  fs::path data = fs::path(CTFORMER_DATA_DIR);
  fs::path out = ".";
  std::size_t vocab = V;        // WordPiece tokens learned (at most the model's V)
  long pretrain_steps = 4000;
  long finetune_steps = 300;
  std::size_t seeds = 5;
  double pretrain_lr = 3e-3;
  double mask_rate = 0.3;       // share of tokens the MLM objective predicts
  double shakespeare_share = 0.1;   // share of each MLM batch drawn from Shakespeare
  double lr = 1e-3;             // fine-tuning, both arms
  double body_lr_scale = 1.0;   // pretrained arm: lr of embeddings and encoder layers, relative to the head's
  bool freeze_embeddings = false;
  int freeze_layers = 0;        // pretrained arm: freeze encoder layers 0..N-1
  long patience = 6;            // validation checks without improvement (0: never stop early)
  long eval_every = 25;
  std::string pretrained;       // load the MLM weights from here instead of pretraining
  bool run_pretrained = true, run_scratch = true;
  bool embeddings_only = false;
  bool rescale_embeddings = true;  // pretrained arm: embedding tables back to the init's RMS  // pretrained arm: take only the embeddings from pretraining
  double labelled = 1.0;        // share of the training sentences fine-tuning sees (both arms)
  bool mean_pooling = true;     // classify<2, pooling::mean>; false: BERT's [CLS] pooler
};

[[noreturn]] void usage(int code) {
  std::printf(
      "finetune_sentiment: MLM pretraining, then fine-tuning against training from scratch\n"
      "  --data DIR             shared data folder (sentiment/, tinyshakespeare/); default %s\n"
      "  --out DIR              where weights and the JSON report go (default .)\n"
      "  --vocab N              WordPiece vocabulary, at most %zu (default %zu)\n"
      "  --pretrain-steps N     MLM steps (default 4000)\n"
      "  --finetune-steps N     most fine-tuning steps per arm and seed (default 300)\n"
      "  --seeds N              fine-tuning seeds per arm (default 5)\n"
      "  --lr X                 fine-tuning learning rate, both arms (default 1e-3)\n"
      "  --pretrain-lr X        MLM peak learning rate, warm-up then cosine (default 3e-3)\n"
      "  --mask-rate X          share of tokens MLM chooses to predict (default 0.3)\n"
      "  --shakespeare-share X  share of each MLM batch taken from Shakespeare (default 0.1)\n"
      "  --body-lr-scale X      pretrained arm: body lr = X * lr (default 1)\n"
      "  --freeze-embeddings    pretrained arm: keep the pretrained embeddings fixed\n"
      "  --freeze-layers N      pretrained arm: keep encoder layers below N fixed\n"
      "  --patience N           early stopping on validation accuracy (default 6; 0 = off)\n"
      "  --eval-every N         steps between validation checks (default 25)\n"
      "  --transfer all|embeddings  pretrained arm: the whole body (default) or its embeddings only\n"
      "  --keep-embedding-scale pretrained arm: do not rescale the embedding tables to the init's RMS\n"
      "  --labelled X           fine-tune on this share of the training sentences, both arms (default 1)\n"
      "  --pretrained FILE      skip pretraining; load this MLM checkpoint\n"
      "  --arms both|pretrained|scratch   which fine-tuning arms to run (default both)\n"
      "  --pooling mean|cls     classifier input, both arms: the mean of the real tokens' final states\n"
      "                         (default) or BERT's [CLS] pooler\n",
      CTFORMER_DATA_DIR, V, V);
  std::exit(code);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value after %s\n", a.c_str());
        usage(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") usage(0);
    else if (a == "--data") o.data = next();
    else if (a == "--out") o.out = next();
    else if (a == "--vocab") o.vocab = std::stoul(next());
    else if (a == "--pretrain-steps") o.pretrain_steps = std::stol(next());
    else if (a == "--finetune-steps") o.finetune_steps = std::stol(next());
    else if (a == "--seeds") o.seeds = std::stoul(next());
    else if (a == "--lr") o.lr = std::stod(next());
    else if (a == "--pretrain-lr") o.pretrain_lr = std::stod(next());
    else if (a == "--mask-rate") o.mask_rate = std::stod(next());
    else if (a == "--shakespeare-share") o.shakespeare_share = std::stod(next());
    else if (a == "--body-lr-scale") o.body_lr_scale = std::stod(next());
    else if (a == "--freeze-embeddings") o.freeze_embeddings = true;
    else if (a == "--freeze-layers") o.freeze_layers = std::stoi(next());
    else if (a == "--patience") o.patience = std::stol(next());
    else if (a == "--eval-every") o.eval_every = std::stol(next());
    else if (a == "--pretrained") o.pretrained = next();
    else if (a == "--keep-embedding-scale") o.rescale_embeddings = false;
    else if (a == "--labelled") o.labelled = std::stod(next());
    else if (a == "--transfer") {
      const std::string v = next();
      if (v != "all" && v != "embeddings") usage(2);
      o.embeddings_only = v == "embeddings";
    }
    else if (a == "--pooling") {
      const std::string v = next();
      if (v != "cls" && v != "mean") usage(2);
      o.mean_pooling = v == "mean";
    } else if (a == "--arms") {
      const std::string v = next();
      o.run_pretrained = v != "scratch";
      o.run_scratch = v != "pretrained";
    }
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      usage(2);
    }
  }
  if (o.seeds == 0 || o.finetune_steps <= 0 || o.vocab < 100 || o.vocab > V || !(o.labelled > 0 && o.labelled <= 1))
    usage(2);
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- pretraining data: 30-token windows of two token streams -----------------------------------
using window = std::array<std::int32_t, Sp>;

// Cuts a token stream into rows "[CLS] 30 tokens [SEP]"; a short tail is padded.
void cut_windows(const std::vector<std::int32_t>& stream, const special_tokens& sp, std::vector<window>& out,
                 std::vector<std::size_t>& lengths) {
  for (std::size_t at = 0; at < stream.size(); at += Sp - 2) {
    window w;
    w.fill(sp.pad);
    const std::size_t n = std::min(Sp - 2, stream.size() - at);
    w[0] = sp.cls;
    for (std::size_t j = 0; j < n; ++j) w[1 + j] = stream[at + j];
    w[1 + n] = sp.sep;
    out.push_back(w);
    lengths.push_back(n + 2);
  }
}

// Batches of MLM rows: half from the sentiment windows, half from Shakespeare's, drawn with a
// generator keyed by (seed, epoch, index) and masked the same way, so a batch depends on its
// index alone (what the trainer's resume needs).
class mlm_source : public batch_source<token_batch_t> {
 public:
  mlm_source(std::vector<window> a, std::vector<std::size_t> la, std::vector<window> b, std::vector<std::size_t> lb,
             mlm_options mo, std::size_t batches, std::uint64_t seed, std::size_t rows_from_b)
      : a_(std::move(a)), la_(std::move(la)), b_(std::move(b)), lb_(std::move(lb)), mo_(std::move(mo)),
        batches_(batches), seed_(seed), from_b_(rows_from_b) {}
  std::size_t size() const override { return batches_; }
  void start_epoch(std::size_t e) override { epoch_ = e; }
  void get(std::size_t index, token_batch_t& out) override {
    sample_rng rng(seed_ ^ (std::uint64_t(epoch_) << 32) ^ (index * 0x9E3779B97F4A7C15ull));
    for (std::size_t r = 0; r < Bp; ++r) {
      const bool first = r >= from_b_;
      const auto& pool = first ? a_ : b_;
      const auto& lens = first ? la_ : lb_;
      const std::size_t k = rng.uniform(pool.size());
      for (std::size_t j = 0; j < Sp; ++j) {
        out.ids(r, j) = pool[k][j];
        out.attention_mask(r, j) = j < lens[k] ? 1 : 0;
        out.token_type(r, j) = 0;
      }
    }
    mlm_mask(out, mo_, rng);
  }

 private:
  std::vector<window> a_;
  std::vector<std::size_t> la_;
  std::vector<window> b_;
  std::vector<std::size_t> lb_;
  mlm_options mo_;
  std::size_t batches_, epoch_ = 0;
  std::uint64_t seed_;
  std::size_t from_b_;  // rows 0..from_b_-1 come from b, the rest from a
};

// ---- fine-tuning -------------------------------------------------------------------------------
struct split_data {
  std::vector<fixed_encoding<S>> enc;
  std::vector<std::int32_t> labels;
};

split_data take(const std::vector<fixed_encoding<S>>& enc, const std::vector<std::int32_t>& labels,
                const std::vector<std::size_t>& idx) {
  split_data d;
  for (auto i : idx) {
    d.enc.push_back(enc[i]);
    d.labels.push_back(labels[i]);
  }
  return d;
}

// Accuracy, precision, recall, F1 (positive = 1) and macro F1 of a classifier on a split.
template <class Classifier>
m::metric_set evaluate(const typename Classifier::params& p, const split_data& d,
                       typename Classifier::template workspace<B, S>& ws, class_batch_t& batch) {
  std::vector<std::size_t> order(d.enc.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto plan = make_batches<B>(order);
  m::classification_metrics acc(2);
  std::vector<float> scores(B * 2);
  for (const auto& rows : plan) {
    fill_batch(batch, std::span<const fixed_encoding<S>>(d.enc), std::span<const std::int32_t>(d.labels), rows);
    Classifier::forward(p, ws, batch, run_mode::eval());
    acc.update(m::class_output{std::span<const std::int32_t>(batch.labels.data(), B),
                               m::real_view(ws.head_ws.logits.data(), B * 2), 2});
  }
  return acc.result();
}

struct arm_result {
  m::metric_set test;
  double best_val = 0;
  long best_step = 0, steps = 0;
  double seconds = 0;
};

template <class Classifier>
arm_result finetune(bool pretrained, std::uint64_t seed, const options& o, const std::string& mlm_path,
                    const split_data& train, const split_data& val, const split_data& test) {
  adamw opt;
  opt.lr = o.lr;
  opt.weight_decay = 0.01;
  if (pretrained) {
    // Parameter groups (the first match decides): frozen embeddings, frozen lower layers, then the
    // rest of the body at its own learning rate. The new head always trains at the full rate.
    if (o.freeze_embeddings) opt.groups.push_back(param_group{.prefixes = {"embeddings."}, .frozen = true});
    if (o.freeze_layers > 0)
      opt.groups.push_back(param_group{.prefixes = {"encoder.layer."}, .layers_below = o.freeze_layers, .frozen = true});
    if (o.body_lr_scale != 1.0)
      opt.groups.push_back(param_group{.prefixes = {"embeddings.", "encoder."}, .lr_scale = float(o.body_lr_scale)});
  }
  const long warmup = std::max(1L, o.finetune_steps / 10);
  trainer<Classifier, adamw, warmup_linear> t(
      opt, warmup_linear{.lr = o.lr, .warmup = warmup, .total = o.finetune_steps},
      train_options{.clip = 1.0, .seed = seed});
  if (pretrained) {
    // The body comes from the MLM checkpoint; the classification head keeps its fresh init.
    // (In one process with one config, `t.weights().body = mlm_params.body` does the same.)
    // --transfer embeddings takes the word, position and type embeddings only.
    load_options lo;
    lo.only = {"embeddings."};
    if (!o.embeddings_only) lo.only.push_back("encoder.");
    load_weights(mlm_path, t.weights(), lo);
    if (o.rescale_embeddings) {
      // The three embedding tables are summed and then layer-normalised, so scaling all of them by
      // one factor leaves the model's function unchanged (up to LayerNorm's eps). Adam's steps have
      // a fixed size, so tables grown large in pretraining learn slowly relative to their size;
      // bringing them back to the initialisation's RMS gives them the relative speed that
      // from-scratch training has.
      auto& body = t.weights().body;
      double sq = 0;
      for (float x : body.word) sq += double(x) * x;
      const float c = float(cfg.init_std / std::sqrt(sq / double(body.word.size())));
      body.word *= c;
      body.position *= c;
      body.token_type *= c;
    }
  }
  auto ws = std::make_unique<typename Classifier::template workspace<B, S>>();
  auto eval_batch = std::make_unique<class_batch_t>();
  // Training batches: the same shuffled order for both arms of a seed, reshuffled each epoch.
  std::vector<batch_rows<B>> plan;
  auto reshuffle = [&](std::size_t epoch) {
    const auto order = shuffled_indices(train.enc.size(), seed * 1000 + epoch);
    plan = make_batches<B>(std::span<const std::size_t>(order), last_batch::drop);
  };
  reshuffle(0);
  function_source<class_batch_t> src(
      plan.size(),
      [&](std::size_t i, class_batch_t& b) {
        fill_batch(b, std::span<const fixed_encoding<S>>(train.enc), std::span<const std::int32_t>(train.labels), plan[i]);
      },
      reshuffle);
  fit_options fo;
  fo.max_steps = o.finetune_steps;
  fo.eval_every = o.eval_every;
  fo.patience = o.patience;
  fo.mode = stop_mode::max;
  fo.validation_score = [&] { return evaluate<Classifier>(t.weights(), val, *ws, *eval_batch).at("accuracy"); };
  fo.restore_best = true;
  fo.progress = progress_bar::style::quiet;
  const auto fr = t.fit(src, static_cast<batch_source<class_batch_t>*>(nullptr), fo);
  arm_result r;
  r.test = evaluate<Classifier>(t.weights(), test, *ws, *eval_batch);
  r.best_val = fr.best_val_loss;
  r.best_step = fr.best_step;
  r.steps = fr.steps;
  r.seconds = fr.seconds;
  return r;
}

struct mean_std {
  double mean = 0, std = 0;
};
mean_std summarize(const std::vector<double>& v) {
  mean_std s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = v.size() > 1 ? std::sqrt(s.std / double(v.size() - 1)) : 0.0;
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  const options o = parse(argc, argv);
  const auto t_start = std::chrono::steady_clock::now();
  fs::create_directories(o.out);
  std::printf("finetune_sentiment: encoder %zu layers, d_model %zu, %zu parameters (body %zu); batch %zu x %zu tokens; "
              "%u thread(s), simd %s\n",
              cfg.layers, cfg.d_model, classifier::param_count, classifier::body_param_count, B, S, num_threads(),
              std::string(kernels::simd_arch_name()).c_str());

  // ---- data: 3,000 labelled sentences, split 70 / 10 / 20, stratified --------------------------
  classification_set all;
  for (const char* f : {"amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"}) {
    const auto part = load_classification_tsv((o.data / "sentiment" / f).string());
    all.texts.insert(all.texts.end(), part.texts.begin(), part.texts.end());
    all.labels.insert(all.labels.end(), part.labels.begin(), part.labels.end());
  }
  const index_split split = stratified_split(all.labels, split_fractions{.validation = 0.1, .test = 0.2}, 2024);
  const std::string shakespeare = read_text_file((o.data / "tinyshakespeare" / "input.txt").string());
  std::printf("sentiment: %zu sentences -> train %zu, validation %zu, test %zu; tinyshakespeare %zu bytes\n",
              all.texts.size(), split.train.size(), split.validation.size(), split.test.size(), shakespeare.size());

  // ---- tokenizer: WordPiece trained on the pretraining text (no test sentence in it) ----------
  auto t0 = std::chrono::steady_clock::now();
  std::string unlabelled;  // the train and validation sentences: text only, labels unused
  for (const auto* part : {&split.train, &split.validation})
    for (auto i : *part) (unlabelled += all.texts[i]) += '\n';
  wordpiece_train_options wo;
  wo.vocab_size = o.vocab;
  const wordpiece_tokenizer tok = wordpiece_tokenizer::train(unlabelled + shakespeare, wo);
  const special_tokens& sp = tok.specials();
  if (tok.vocab_size() > cfg.vocab) fail("tokenizer has {} tokens, the model {}", tok.vocab_size(), cfg.vocab);
  encode_options eo;
  eo.tmpl = sequence_template::bert(sp);
  const auto enc = encode_texts<S>(tok, all.texts, eo);
  std::size_t truncated = 0;
  for (const auto& e : enc) truncated += e.truncated > 0;
  std::printf("WordPiece: %zu tokens, trained in %.1f s; %zu of %zu sentences truncated to %zu tokens\n",
              tok.vocab_size(), seconds_since(t0), truncated, enc.size(), S);
  std::vector<std::size_t> train_idx = split.train;
  if (o.labelled < 1.0) {  // a fixed random subset, the same for both arms and every seed
    const auto order = shuffled_indices(train_idx.size(), 4242);
    std::vector<std::size_t> kept;
    for (std::size_t i = 0; i < std::size_t(o.labelled * double(train_idx.size())); ++i) kept.push_back(train_idx[order[i]]);
    train_idx = std::move(kept);
    std::printf("fine-tuning on %zu of the %zu training sentences (--labelled %.2f)\n", train_idx.size(),
                split.train.size(), o.labelled);
  }
  const split_data train = take(enc, all.labels, train_idx), val = take(enc, all.labels, split.validation),
                   test = take(enc, all.labels, split.test);

  // ---- phase 1: masked-language-model pretraining ---------------------------------------------
  const std::string mlm_path = o.pretrained.empty() ? (o.out / "finetune_sentiment_mlm.safetensors").string()
                                                    : o.pretrained;
  double pretrain_seconds = 0;
  if (o.pretrained.empty()) {
    t0 = std::chrono::steady_clock::now();
    std::vector<std::int32_t> sent_stream, shak_stream = tok.encode(shakespeare);
    for (const auto* part : {&split.train, &split.validation})
      for (auto i : *part) {
        const auto ids = tok.encode(all.texts[i]);
        sent_stream.insert(sent_stream.end(), ids.begin(), ids.end());
        sent_stream.push_back(sp.sep);  // sentences packed into windows, [SEP] between them
      }
    std::vector<window> wa, wb;
    std::vector<std::size_t> la, lb;
    cut_windows(sent_stream, sp, wa, la);
    cut_windows(shak_stream, sp, wb, lb);
    mlm_options mo;
    mo.select = o.mask_rate;
    mo.mask_id = sp.mask;
    mo.vocab_size = tok.vocab_size();
    mo.special_ids = {sp.pad, sp.cls, sp.sep, sp.unk};
    // The loss a context-blind model reaches: the unigram entropy of the predicted tokens, mixed
    // like the batches. An MLM loss well below it means pretraining learned from the context.
    auto entropy = [&](const std::vector<std::int32_t>& ids) {
      std::vector<double> count(tok.vocab_size());
      double n = 0;
      for (auto id : ids)
        if (id != sp.sep && id != sp.unk) ++count[std::size_t(id)], ++n;
      double h = 0;
      for (double c : count)
        if (c > 0) h -= c / n * std::log(c / n);
      return h;
    };
    const double unigram = o.shakespeare_share * entropy(shak_stream) + (1 - o.shakespeare_share) * entropy(sent_stream);
    std::printf("pretraining text: %zu sentiment windows, %zu Shakespeare windows of %zu tokens; %.0f%% of each batch "
                "from Shakespeare; unigram entropy %.3f nats\n", wa.size(), wb.size(), Sp - 2,
                100.0 * o.shakespeare_share, unigram);
    const std::size_t shak_rows = std::size_t(std::lround(o.shakespeare_share * double(Bp)));
    mlm_source probe(wa, la, wb, lb, mo, 20, 99, shak_rows);  // other masks, for the loss after training
    mlm_source src(std::move(wa), std::move(la), std::move(wb), std::move(lb), mo, 1000, 7, shak_rows);
    adamw opt;
    opt.lr = o.pretrain_lr;
    opt.weight_decay = 0.01;
    trainer<mlm_model, adamw, warmup_cosine> t(
        opt, warmup_cosine{.lr = o.pretrain_lr, .warmup = std::max(1L, o.pretrain_steps / 20), .total = o.pretrain_steps,
                           .min_lr = o.pretrain_lr / 10},
        train_options{.clip = 1.0, .seed = 1});
    fit_options fo;
    fo.max_steps = o.pretrain_steps;
    fo.log_every = 50;
    fo.progress = progress_bar::style::lines;
    fo.log_path = (o.out / "finetune_sentiment_mlm_log.jsonl").string();
    const auto fr = t.fit(src, static_cast<batch_source<token_batch_t>*>(nullptr), fo);
    save_weights(mlm_path, t.weights());
    auto probe_ws = std::make_unique<mlm_model::workspace<Bp, Sp>>();
    auto probe_batch = std::make_unique<token_batch_t>();
    const double mlm_loss = t.evaluate(probe, *probe_ws, *probe_batch);
    pretrain_seconds = seconds_since(t0);
    std::printf("pretraining: %ld steps in %.1f s; MLM loss %.3f on 20 freshly masked batches (unigram entropy "
                "%.3f); saved %s\n", fr.steps, pretrain_seconds, mlm_loss, unigram, mlm_path.c_str());
  } else {
    std::printf("pretraining skipped: body loaded from %s\n", mlm_path.c_str());
  }

  // ---- phase 2: fine-tuning, pretrained vs from scratch, several seeds ------------------------
  std::printf("fine-tuning: at most %ld steps of %zu sentences (lr %.1e, warmup-linear), validation accuracy every %ld "
              "steps, patience %ld, best weights restored; pretrained arm: body lr x%.2f%s%s\n",
              o.finetune_steps, B, o.lr, o.eval_every, o.patience, o.body_lr_scale,
              o.freeze_embeddings ? ", embeddings frozen" : "",
              o.freeze_layers > 0 ? fmt::format(", layers < {} frozen", o.freeze_layers).c_str() : "");
  std::vector<double> acc_pre, acc_scr, f1_pre, f1_scr, f1m_pre, f1m_scr;
  double secs_pre = 0, secs_scr = 0;
  json::value runs = json::array{};
  for (std::size_t s = 0; s < o.seeds; ++s) {
    const std::uint64_t seed = 100 + s;
    arm_result p, r;
    p.test.set("accuracy", NAN), p.test.set("f1", NAN), p.test.set("f1_macro", NAN);
    r.test = p.test;
    auto run_arm = [&](bool pretrained) {
      return o.mean_pooling ? finetune<classifier_t<pooling::mean>>(pretrained, seed, o, mlm_path, train, val, test)
                            : finetune<classifier_t<pooling::cls>>(pretrained, seed, o, mlm_path, train, val, test);
    };
    if (o.run_pretrained) p = run_arm(true);
    if (o.run_scratch) r = run_arm(false);
    std::printf("seed %llu: pretrained test acc %.4f F1 %.4f (val %.4f at step %ld of %ld, %.1f s) | "
                "scratch test acc %.4f F1 %.4f (val %.4f at step %ld of %ld, %.1f s)\n",
                (unsigned long long)seed, p.test.at("accuracy"), p.test.at("f1"), p.best_val, p.best_step, p.steps,
                p.seconds, r.test.at("accuracy"), r.test.at("f1"), r.best_val, r.best_step, r.steps, r.seconds);
    acc_pre.push_back(p.test.at("accuracy"));
    acc_scr.push_back(r.test.at("accuracy"));
    f1_pre.push_back(p.test.at("f1"));
    f1_scr.push_back(r.test.at("f1"));
    f1m_pre.push_back(p.test.at("f1_macro"));
    f1m_scr.push_back(r.test.at("f1_macro"));
    secs_pre += p.seconds;
    secs_scr += r.seconds;
    json::value run = json::object{};
    run.set("seed", seed);
    run.set("pretrained", p.test.to_json());
    run.set("scratch", r.test.to_json());
    run.set("pretrained_steps", p.steps);
    run.set("scratch_steps", r.steps);
    runs.push_back(std::move(run));
  }

  // ---- report ----------------------------------------------------------------------------------
  std::vector<double> diff;
  for (std::size_t i = 0; i < acc_pre.size(); ++i) diff.push_back(acc_pre[i] - acc_scr[i]);
  m::metric_set summary;
  auto put = [&](const std::string& name, const std::vector<double>& v) {
    const auto ms = summarize(v);
    summary.set(name + " mean", ms.mean);
    summary.set(name + " std", ms.std);
  };
  put("pretrained accuracy", acc_pre);
  put("scratch accuracy", acc_scr);
  put("pretrained f1", f1_pre);
  put("scratch f1", f1_scr);
  put("pretrained f1_macro", f1m_pre);
  put("scratch f1_macro", f1m_scr);
  put("accuracy gain", diff);
  std::size_t wins = 0;
  for (double d : diff) wins += d > 0;
  summary.set("seeds where pretrained wins", double(wins));
  m::report_options ro;
  ro.title = fmt::format("test split ({} sentences), {} seeds", test.enc.size(), o.seeds);
  m::report(summary, ro);
  const double total_seconds = seconds_since(t_start);
  std::printf("time: pretraining %.1f s; fine-tuning %.1f s (pretrained arm) + %.1f s (scratch arm); total %.1f s\n",
              pretrain_seconds, secs_pre, secs_scr, total_seconds);
  json::value doc = json::object{};
  doc.set("title", ro.title);
  doc.set("model", o.mean_pooling ? classifier_t<pooling::mean>::describe() : classifier_t<pooling::cls>::describe());
  doc.set("pretrain_steps", o.pretrained.empty() ? o.pretrain_steps : 0L);
  doc.set("finetune_max_steps", o.finetune_steps);
  doc.set("batch", B);
  doc.set("summary", summary.to_json());
  doc.set("runs", std::move(runs));
  doc.set("seconds", json::value(json::array{json::value(pretrain_seconds), json::value(secs_pre),
                                             json::value(secs_scr), json::value(total_seconds)}));
  m::write_json_file((o.out / "finetune_sentiment.json").string(), doc);
  const auto a = summarize(acc_pre), b = summarize(acc_scr);
  std::printf("result: pretrained %.4f ± %.4f vs from scratch %.4f ± %.4f test accuracy (%zu of %zu seeds won)\n",
              a.mean, a.std, b.mean, b.std, wins, diff.size());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "finetune_sentiment: %s\n", e.what());
  return 1;
}
