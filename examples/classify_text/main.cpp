// Text classification end to end, in one file you can copy into your own project (its
// CMakeLists.txt uses find_package(ctformer) and nothing else from this repository):
//   read a "label<TAB>text" (or "text<TAB>label") file, split it 80/10/10 stratified by label,
//   train a WordPiece tokenizer on the training texts, fit a small BERT-like classifier with
//   early stopping on validation F1 and a progress bar, report the test metrics, save the
//   weights and the vocabulary, reload both and classify new strings in one call.
// Usage: classify_text [--data FILE] [--label-first 0|1] [--steps N] [--out DIR] [TEXT...]
// Default data: the SMS Spam Collection in this checkout's ../shared/data (5,574 messages).
#include <ctformer/base/cli.hpp>
#include <ctformer/data/datasets.hpp>
#include <ctformer/data/encode.hpp>
#include <ctformer/data/sampling.hpp>
#include <ctformer/data/tokenizers/wordpiece.hpp>
#include <ctformer/deploy/predict.hpp>
#include <ctformer/io/weights.hpp>
#include <ctformer/metrics/classification.hpp>
#include <ctformer/metrics/report.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/train/trainer.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
using model = encoder<cfg, classify<2, pooling::mean>>;
using batch = classification_batch<rows, seq>;
static_assert(trainer<model, adamw, warmup_cosine>::bytes_at<rows, seq> < 64 * 1024 * 1024);

namespace {

struct options {
  fs::path data = "../shared/data/sms-spam/SMSSpamCollection";
  bool label_first = true;  // the SMS collection is "ham<TAB>message"
  long steps = 600;
  fs::path out = ".";
  std::vector<std::string> texts = {"Are we still meeting for lunch tomorrow?",
                                    "WINNER!! You have been selected for a 1000 cash prize. Call now to claim"};
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: classify_text [--data FILE] [--label-first 0|1] [--steps N] [--out DIR] [TEXT...]\n"
               "  --data FILE        tab-separated examples (default ../shared/data/sms-spam/SMSSpamCollection)\n"
               "  --label-first 0|1  1: label<TAB>text (default), 0: text<TAB>label\n"
               "  --steps N          optimizer steps at most (default 600; early stopping may end sooner)\n"
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

}  // namespace

int main(int argc, char** argv) try {
  options o;
  cli::arg_reader args(argc, argv, usage);
  std::vector<std::string> own_texts;
  while (args.next()) {
    if (args.is("--data")) o.data = args.text();
    else if (args.is("--label-first")) o.label_first = args.integer() != 0;
    else if (args.is("--steps")) o.steps = args.integer();
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
  adamw opt;
  opt.lr = 1e-3;
  trainer<model, adamw, warmup_cosine> tr(opt, warmup_cosine{.lr = 1e-3, .warmup = 30, .total = o.steps, .min_lr = 1e-4});
  sample_rng shuffler(7);
  std::vector<std::size_t> order = split.train;
  function_source<batch> train_src(
      (order.size() + rows - 1) / rows, [&](std::size_t i, batch& b) { fill(b, set, order, i * rows, tok, enc); },
      [&](std::size_t) { shuffle(std::span<std::size_t>(order), shuffler); });  // a new order each epoch
  auto val_f1 = [&](const std::vector<std::size_t>& idx, metrics::classification_metrics& m) {
    text_classifier<model, rows, seq> clf(tr.weights(), tok, enc);
    std::vector<std::string> texts;
    for (std::size_t i : idx) texts.push_back(set.texts[i]);
    const auto preds = clf.predict(texts);
    for (std::size_t k = 0; k < idx.size(); ++k) m.add(set.labels[idx[k]], preds[k].label);
  };
  fit_options fo;
  fo.max_steps = o.steps;
  fo.eval_every = 50;
  fo.patience = 4;
  fo.mode = stop_mode::max;
  fo.score_name = "val_f1";
  fo.validation_score = [&] {
    metrics::classification_metrics m(2);
    val_f1(split.validation, m);
    return m.result().at("f1");
  };
  fo.log_path = (o.out / "classify_text_log.jsonl").string();
  const fit_result fr = tr.fit(train_src, nullptr, fo);
  if (fr.interrupted) fail("interrupted after {} steps; nothing saved", fr.steps);
  std::printf("trained %ld steps in %.1f s; best validation F1 %.3f at step %ld%s\n", fr.steps, fr.seconds,
              fr.best_score, fr.best_step, fr.stopped_early ? " (stopped early)" : "");

  // ---- test metrics (the best weights are back in the trainer)
  metrics::classification_metrics test(2);
  val_f1(split.test, test);
  metrics::report_options ro;
  ro.title = "test set";
  ro.confusion = &test.confusion();
  ro.class_names = set.label_names;
  ro.json_path = (o.out / "classify_text_report.json").string();
  metrics::report(test.result(), ro);

  // ---- save, reload, predict new strings in one call
  const std::string weights_path = (o.out / "classify_text.safetensors").string();
  const std::string vocab_path = (o.out / "classify_text_vocab.txt").string();
  save_weights(weights_path, tr.weights());
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
