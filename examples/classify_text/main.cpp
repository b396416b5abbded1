// Text classification end to end, in one file you can copy into your own project (its
// CMakeLists.txt uses find_package(ctformer) and nothing else from this repository):
//   read a "label<TAB>text" (or "text<TAB>label") file, split it 80/10/10 stratified by label,
//   train a WordPiece tokenizer on the training texts, fit a small BERT-like classifier with
//   early stopping on validation F1 and a progress bar, report the test metrics, save the
//   weights and the vocabulary, reload both and classify new strings in one call.
//   With --folds K it also trains K fold models (stratified k-fold over train + validation) and
//   compares their ensemble (soft and majority voting) with the mean single fold model; with
//   --search N, a hyperparameter search (successive halving) over learning rate, weight decay,
//   warm-up and two architectures.
// Usage: classify_text [--data FILE] [--label-first 0|1] [--steps N] [--folds K] [--search N] [--out DIR] [TEXT...]
// Default data: the SMS Spam Collection in this checkout's ../shared/data (5,574 messages).
#include <ctformer/base/cli.hpp>
#include <ctformer/data/datasets.hpp>
#include <ctformer/data/encode.hpp>
#include <ctformer/data/sampling.hpp>
#include <ctformer/data/tokenizers/wordpiece.hpp>
#include <ctformer/deploy/ensemble.hpp>
#include <ctformer/deploy/predict.hpp>
#include <ctformer/io/weights.hpp>
#include <ctformer/metrics/classification.hpp>
#include <ctformer/metrics/cross_validation.hpp>
#include <ctformer/metrics/report.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/train/search.hpp>
#include <ctformer/train/trainer.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

using namespace ctformer;
namespace fs = std::filesystem;

// The model: 2 post-LN layers, d_model 64, sequences of 48 WordPiece tokens, two classes, the
// classifier on the mean of the real tokens' final states. Its size is a compile-time figure.
constexpr std::size_t vocab = 2000, seq = 48, rows = 32;
constexpr bert_config cfg{.vocab = vocab, .context = seq, .d_model = 64, .heads = 4, .d_ff = 128, .layers = 2};
// A smaller alternative the hyperparameter search (--search) may pick: 1 layer, d_model 32.
constexpr bert_config cfg_small{.vocab = vocab, .context = seq, .d_model = 32, .heads = 2, .d_ff = 64, .layers = 1};
template <bert_config C>
using model_of = encoder<C, classify<2, pooling::mean>>;
using model = model_of<cfg>;
using batch = classification_batch<rows, seq>;
static_assert(trainer<model, adamw, warmup_cosine>::bytes_at<rows, seq> < 64 * 1024 * 1024);

namespace {

struct options {
  fs::path data = "../shared/data/sms-spam/SMSSpamCollection";
  bool label_first = true;  // the SMS collection is "ham<TAB>message"
  long steps = 600;
  std::size_t folds = 0;  // > 1: also k fold models and their ensemble
  std::size_t search = 0;  // > 0: a hyperparameter search over this many random trials
  fs::path out = ".";
  std::vector<std::string> texts = {"Are we still meeting for lunch tomorrow?",
                                    "WINNER!! You have been selected for a 1000 cash prize. Call now to claim"};
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: classify_text [--data FILE] [--label-first 0|1] [--steps N] [--folds K] [--search N] [--out DIR]\n"
               "                     [TEXT...]\n"
               "  --data FILE        tab-separated examples (default ../shared/data/sms-spam/SMSSpamCollection)\n"
               "  --label-first 0|1  1: label<TAB>text (default), 0: text<TAB>label\n"
               "  --steps N          optimizer steps at most (default 600; early stopping may end sooner)\n"
               "  --folds K          also train K fold models on train + validation and compare their\n"
               "                     ensemble with the mean single fold model on the test split\n"
               "  --search N         also search N random settings (learning rate, weight decay, warm-up,\n"
               "                     architecture) by successive halving on validation F1\n"
               "  --out DIR          where the weights, vocabulary and log go (default: the current folder)\n"
               "  TEXT...            strings to classify with the reloaded model\n");
  std::exit(code);
}

// Rows of a batch from the examples at idx[first..], padded rows get ignore_index.
void fill(batch& b, const classification_set& set, const std::vector<std::size_t>& idx, std::size_t first,
          const tokenizer& tok, const encode_options& enc) {
  for (std::size_t r = 0; r < rows; ++r) {
    const bool real = first + r < idx.size();
    const std::size_t i = idx[real ? first + r : 0];
    write_row(b.ids, b.attention_mask, b.token_type, r, encode_fixed<seq>(tok, set.texts[i], enc));
    b.labels(r) = real ? set.labels[i] : ignore_index;
  }
}

// One trained model: the best weights by validation F1, and how the fit went.
template <class M = model>
struct fitted {
  std::unique_ptr<typename M::params> weights;
  fit_result result;
};

// The optimizer settings a fit uses (the defaults, or a search trial's).
struct settings {
  double lr = 1e-3, weight_decay = 0.01;
  long warmup = 30;
};

// Test-set (or validation) metrics of a classifier (a text_classifier or an ensemble).
template <class Classifier>
metrics::classification_metrics score(Classifier& clf, const classification_set& set,
                                      const std::vector<std::size_t>& idx) {
  std::vector<std::string> texts;
  for (std::size_t i : idx) texts.push_back(set.texts[i]);
  const auto preds = clf.predict(texts);
  metrics::classification_metrics m(2);
  for (std::size_t k = 0; k < idx.size(); ++k) m.add(set.labels[idx[k]], preds[k].label);
  return m;
}

// Fits the classifier on train_idx with early stopping on the F1 of val_idx (AdamW, warm-up and
// cosine decay, batches in a new order each epoch); log_path may be empty.
template <class M = model>
fitted<M> fit_model(const classification_set& set, const std::vector<std::size_t>& train_idx,
                    const std::vector<std::size_t>& val_idx, const tokenizer& tok, const encode_options& enc,
                    long steps, std::uint64_t seed, const std::string& log_path, const settings& hp = {}) {
  adamw opt;
  opt.lr = hp.lr;
  opt.weight_decay = hp.weight_decay;
  trainer<M, adamw, warmup_cosine> tr(
      opt, warmup_cosine{.lr = hp.lr, .warmup = hp.warmup, .total = steps, .min_lr = hp.lr / 10},
      train_options{.seed = seed});
  sample_rng shuffler(seed + 6);
  std::vector<std::size_t> order = train_idx;
  function_source<batch> train_src(
      (order.size() + rows - 1) / rows, [&](std::size_t i, batch& b) { fill(b, set, order, i * rows, tok, enc); },
      [&](std::size_t) { shuffle(std::span<std::size_t>(order), shuffler); });
  fit_options fo;
  fo.max_steps = steps;
  fo.eval_every = 50;
  fo.patience = 4;
  fo.mode = stop_mode::max;
  fo.score_name = "val_f1";
  fo.validation_score = [&] {
    text_classifier<M, rows, seq> clf(tr.weights(), tok, enc);
    return score(clf, set, val_idx).result().at("f1");
  };
  fo.log_path = log_path;
  fo.progress = log_path.empty() ? progress_bar::style::quiet : progress_bar::style::automatic;
  fitted<M> f;
  f.result = tr.fit(train_src, nullptr, fo);
  if (f.result.interrupted) fail("interrupted after {} steps; nothing saved", f.result.steps);
  f.weights = std::make_unique<typename M::params>(tr.weights());
  return f;
}

}  // namespace

int main(int argc, char** argv) try {
  options o;
  cli::arg_reader args(argc, argv, usage);
  std::vector<std::string> own_texts;
  while (args.next()) {
    if (args.is("--data")) o.data = args.text();
    else if (args.is("--label-first")) o.label_first = args.integer() != 0;
    else if (args.is("--steps")) o.steps = args.integer();
    else if (args.is("--folds")) o.folds = args.count();
    else if (args.is("--search")) o.search = args.count();
    else if (args.is("--out")) o.out = args.text();
    else if (args.name().rfind("--", 0) == 0) args.unknown();
    else own_texts.push_back(args.name());
  }
  if (!own_texts.empty()) o.texts = own_texts;
  fs::create_directories(o.out);

  // ---- data: read, split 80/10/10 stratified by label
  tsv_options t;
  t.label_column = o.label_first ? tsv_options::label_at::first : tsv_options::label_at::last;
  const classification_set set = load_classification_tsv(o.data.string(), t);
  if (set.class_count() != 2) fail("'{}' has {} classes; this example's model has 2", o.data.string(), set.class_count());
  const index_split split = stratified_split(set.labels, {0.1, 0.1}, 42);
  std::printf("%zu examples (%s), %zu train / %zu validation / %zu test\n", set.texts.size(),
              o.data.filename().string().c_str(), split.train.size(), split.validation.size(), split.test.size());

  // ---- tokenizer: WordPiece trained on the training texts only
  std::string corpus;
  for (std::size_t i : split.train) (corpus += set.texts[i]) += '\n';
  wordpiece_train_options wo;
  wo.vocab_size = vocab;
  const wordpiece_tokenizer tok = wordpiece_tokenizer::train(corpus, wo);
  encode_options enc;
  enc.tmpl = sequence_template::bert(tok.specials());
  std::printf("WordPiece vocabulary: %zu tokens\n", tok.vocab_size());

  // ---- fit: AdamW, warm-up + cosine, early stopping on validation F1 (the positive class)
  const fitted<> single = fit_model(set, split.train, split.validation, tok, enc, o.steps, 1,
                                  (o.out / "classify_text_log.jsonl").string());
  std::printf("trained %ld steps in %.1f s; best validation F1 %.3f at step %ld%s\n", single.result.steps,
              single.result.seconds, single.result.best_score, single.result.best_step,
              single.result.stopped_early ? " (stopped early)" : "");

  // ---- test metrics (the best weights)
  text_classifier<model, rows, seq> clf(*single.weights, tok, enc);
  const auto test = score(clf, set, split.test);
  metrics::report_options ro;
  ro.title = "test set";
  ro.confusion = &test.confusion();
  ro.class_names = set.label_names;
  ro.json_path = (o.out / "classify_text_report.json").string();
  metrics::report(test.result(), ro);

  // ---- optional: k fold models over train + validation, their ensemble on the same test split
  if (o.folds > 1) {
    std::vector<std::size_t> pool = split.train;
    pool.insert(pool.end(), split.validation.begin(), split.validation.end());
    std::vector<std::int32_t> pool_labels;
    for (std::size_t i : pool) pool_labels.push_back(set.labels[i]);
    const auto folds = metrics::stratified_k_fold(pool_labels, o.folds, {.shuffle = true, .seed = 3});
    std::vector<fitted<>> models;
    std::vector<text_classifier<model, rows, seq>> members;
    double mean_acc = 0, mean_f1 = 0;
    for (std::size_t f = 0; f < folds.size(); ++f) {
      std::vector<std::size_t> tr_idx, va_idx;
      for (std::size_t j : folds[f].train) tr_idx.push_back(pool[j]);
      for (std::size_t j : folds[f].test) va_idx.push_back(pool[j]);
      models.push_back(fit_model(set, tr_idx, va_idx, tok, enc, o.steps, 100 + f, {}));
    }
    for (const auto& m : models) members.emplace_back(*m.weights, tok, enc);
    for (std::size_t f = 0; f < members.size(); ++f) {
      const auto r = score(members[f], set, split.test).result();
      std::printf("fold %zu model: test accuracy %.4f, F1 %.4f (%ld steps)\n", f + 1, r.at("accuracy"), r.at("f1"),
                  models[f].result.steps);
      mean_acc += r.at("accuracy") / double(members.size());
      mean_f1 += r.at("f1") / double(members.size());
    }
    classifier_ensemble soft(ensemble_vote::average_probabilities), hard(ensemble_vote::majority_vote);
    soft.add_all(members);
    hard.add_all(members);
    const auto rs = score(soft, set, split.test).result(), rh = score(hard, set, split.test).result();
    std::printf("%zu-fold ensemble on the test split: accuracy %.4f / F1 %.4f (soft voting), %.4f / %.4f "
                "(majority); mean single fold model %.4f / %.4f\n",
                members.size(), rs.at("accuracy"), rs.at("f1"), rh.at("accuracy"), rh.at("f1"), mean_acc, mean_f1);
  }

  // ---- optional: hyperparameter search by successive halving, scored by validation F1
  if (o.search > 0) {
    search::space sp;
    sp.log_uniform("lr", 2e-4, 5e-3).uniform("weight_decay", 0.0, 0.1).integer("warmup", 10, 60).choice("arch", {0, 1});
    const auto trials = search::random(sp, o.search, 2026);
    const auto r = search::successive_halving(
        trials,
        [&](const search::trial& t, long budget) {
          const settings hp{t["lr"], t["weight_decay"], long(t["warmup"])};
          return search::with_config<cfg_small, cfg>(t.index("arch"), [&]<bert_config C>() {
            return fit_model<model_of<C>>(set, split.train, split.validation, tok, enc, budget, 7, {}, hp).result.best_score;
          });
        },
        {.min_budget = 100, .max_budget = o.steps, .eta = 3, .mode = stop_mode::max});
    std::printf("hyperparameter search (%zu trials, successive halving from 100 to %ld steps; arch 0: 1 layer of "
                "d_model 32, 1: 2 layers of 64; score: validation F1)\n%s",
                trials.size(), o.steps, search::format_table(r).c_str());
    metrics::write_json_file((o.out / "classify_text_search.json").string(), search::to_json(r));
    std::ofstream((o.out / "classify_text_search_lr.svg")) << search::svg_scores(r, "lr", true);
  }

  // ---- save, reload, predict new strings in one call
  const std::string weights_path = (o.out / "classify_text.safetensors").string();
  const std::string vocab_path = (o.out / "classify_text_vocab.txt").string();
  save_weights(weights_path, *single.weights);
  tok.save(vocab_path);
  auto reloaded = std::make_unique<model::params>();
  load_weights(weights_path, *reloaded);
  const wordpiece_tokenizer tok2 = wordpiece_tokenizer::from_file(vocab_path);
  text_classifier<model> classify(*reloaded, tok2, enc);
  std::printf("saved %s and %s; the reloaded model says:\n", weights_path.c_str(), vocab_path.c_str());
  const std::vector<class_prediction> preds = classify.predict(o.texts);
  for (std::size_t i = 0; i < o.texts.size(); ++i) {
    const std::size_t label = std::size_t(preds[i].label);
    const std::string name = set.label_names.empty() ? std::to_string(label) : set.label_names[label];
    std::printf("  %-5s (p = %.3f)  %s\n", name.c_str(), preds[i].probabilities[label], o.texts[i].c_str());
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "classify_text: %s\n", e.what());
  return 1;
}
