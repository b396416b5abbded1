// trainer<Model, Optimizer, Schedule>: owns the weights, gradients and optimizer state of one model
// and runs the training step: zero grads, forward, loss, backward (over micro-batches, weighted so
// their sum is one big batch's mean), clip, update, schedule. Everything is a template argument, so
// the step compiles into one inlined pipeline; it allocates nothing and its result does not depend
// on the thread count. fit() turns steps into a run: epochs or steps, periodic evaluation in eval
// mode, early stopping that keeps the best weights, JSON-lines log, progress, Ctrl-C.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../base/run_mode.hpp"
#include "../concepts.hpp"
#include "../error.hpp"
#include "../io/checkpoint.hpp"
#include "../io/json.hpp"
#include "../io/weights.hpp"
#include "../losses/cross_entropy.hpp"
#include "../models/common.hpp"
#include "../models/init.hpp"
#include "../optim/clip.hpp"
#include "../optim/mask.hpp"
#include "../optim/optimizers.hpp"
#include "../schedules/schedules.hpp"
#include "../tensor/threading.hpp"
#include "early_stopping.hpp"
#include "progress.hpp"
#include "step.hpp"

namespace ctformer {


/// A finite, restartable sequence of batches: what fit() trains and evaluates on.
template <class Batch>
class batch_source {
 public:
  virtual ~batch_source() = default;
  virtual std::size_t size() const = 0;                 ///< batches per epoch
  virtual void get(std::size_t index, Batch& out) = 0;  ///< batch `index` of the current epoch
  virtual void start_epoch(std::size_t) {}              ///< reshuffle, if the source shuffles
  /// For exact resume: a source whose batches depend on more than (epoch, index), such as one that
  /// samples with its own generator, saves and restores that state here.
  virtual json::value save_state() const { return {}; }
  /// Restores the state save_state() returned.
  virtual void load_state(const json::value&) {}
};

/// A batch_source from two callables.
template <class Batch>
class function_source : public batch_source<Batch> {
 public:
  /// n batches per epoch; get(i, out) fills batch i; on_epoch(e), if given, runs at each epoch's start.
  function_source(std::size_t n, std::function<void(std::size_t, Batch&)> get,
                  std::function<void(std::size_t)> on_epoch = {})
      : n_(n), get_(std::move(get)), on_epoch_(std::move(on_epoch)) {}
  std::size_t size() const override { return n_; }
  void get(std::size_t i, Batch& out) override { get_(i, out); }
  /// Calls on_epoch(e), if given.
  void start_epoch(std::size_t e) override {
    if (on_epoch_) on_epoch_(e);
  }

 private:
  std::size_t n_;
  std::function<void(std::size_t, Batch&)> get_;
  std::function<void(std::size_t)> on_epoch_;
};


/// Settings of fit(): length, evaluation, early stopping, logging, saving and checkpoints.
struct fit_options {
  /// Totals count the trainer's optimizer steps, including steps done before (a resumed run
  /// continues to the same total).
  long max_steps = 0;             ///< stop after this many optimizer steps (0: use epochs)
  long epochs = 1;                ///< used when max_steps == 0
  std::size_t accumulation = 1;   ///< micro-batches per optimizer step
  long eval_every = 0;            ///< steps between evaluations (0: at the end of each epoch)
  std::size_t eval_batches = 0;   ///< batches per evaluation (0: all)
  long patience = 0;              ///< evaluations without improvement before stopping (0: never)
  double min_delta = 0.0;         ///< an improvement must beat the best by more than this
  /// A validation score other than the loss (accuracy, BLEU...), computed from the current weights
  /// in eval mode; `mode` says whether higher (max) or lower (min) is better. Empty: the loss.
  std::function<double()> validation_score;
  std::string score_name;         ///< the score's name in logs and messages (empty: "val_loss" or "val_score")
  stop_mode mode = stop_mode::min;  ///< whether higher (max) or lower (min) validation scores are better
  bool restore_best = true;       ///< end with the best weights seen by evaluation
  std::string log_path;           ///< JSON lines: one record per logged step and per evaluation
  long log_every = 10;  ///< steps between logged records (and progress lines)
  progress_bar::style progress = progress_bar::style::automatic;  ///< progress display on stdout
  std::string save_path;          ///< weights are saved here when a run ends (not when Ctrl-C stops it)
  /// Training-state checkpoints (io/checkpoint.hpp) in this folder: every checkpoint_every steps
  /// (and on Ctrl-C), keeping the last keep_last, plus best.safetensors at each new best score.
  std::string checkpoint_dir;
  long checkpoint_every = 0;  ///< steps between checkpoints (0: only on Ctrl-C)
  std::size_t keep_last = 3;  ///< checkpoints kept in checkpoint_dir (the newest)
  bool resume = false;            ///< continue from the newest checkpoint in checkpoint_dir, if any
};

/// What fit() did.
struct fit_result {
  long steps = 0;  ///< optimizer steps done, including earlier ones of a resumed run
  double last_loss = 0;  ///< smoothed training loss at the end
  /// The best validation score: the loss, or fit_options::validation_score (higher is better with
  /// stop_mode::max). +infinity (-infinity for max) when nothing was evaluated.
  double best_score = std::numeric_limits<double>::infinity();
  long best_step = -1;  ///< step of the best score (-1: none)
  bool stopped_early = false;  ///< early stopping ended the run
  bool interrupted = false;  ///< Ctrl-C ended the run
  bool resumed = false;           ///< started from a checkpoint
  double seconds = 0;  ///< wall time of the run
  std::vector<std::pair<long, double>> val_history;  ///< (step, validation score)
};

/// The newest "step-*.safetensors" in a folder, or empty.
inline std::string latest_checkpoint(const std::string& dir) {
  namespace fs = std::filesystem;
  std::string best;
  if (!fs::is_directory(dir)) return best;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step-", 0) == 0 && name.size() > 17 && name.substr(name.size() - 12) == ".safetensors" &&
        (best.empty() || name > fs::path(best).filename().string()))
      best = e.path().string();
  }
  return best;
}

/// The model, optimizer and schedule satisfy the contracts of concepts.hpp; train_step and
/// eval_loss take a batch whose shape is the workspace's (checked at compile time).
template <trainable_model Model, class Optim = adamw, lr_schedule Sched = constant>
  requires optimizer_for<Optim, typename Model::params>
class trainer {
 public:
  using model_type = Model;  ///< the model
  using optimizer_type = Optim;  ///< the optimizer
  using schedule_type = Sched;  ///< the learning-rate schedule
  using params = typename Model::params;  ///< the model's weights
  using T = typename Model::T;  ///< scalar type
  using optimizer_state = typename Optim::template state<params>;  ///< the optimizer's state for params
  /// The model's training workspace for batch size B and sequence lengths S (one, or source and target).
  template <std::size_t B, std::size_t... S>
  using workspace = typename Model::template workspace<B, S...>;

  /// Training memory for a batch shape: weights, gradients, optimizer state, activations.
  template <std::size_t B, std::size_t... S>
  static constexpr std::size_t bytes_at =
      Model::weight_bytes * (2 + std::size_t(Optim::state_tensors)) + sizeof(workspace<B, S...>);

  /// Initializes weights by the model's scheme (seed from o), zero gradients, fresh optimizer state.
  explicit trainer(Optim opt = {}, Sched sched = {}, train_options o = {})
      : opt_(std::move(opt)), sched_(sched), options_(o), p_(std::make_unique<params>()),
        g_(std::make_unique<params>()) {
    Model::init(*p_, options_.seed);
    zero(*g_);
    state_ = opt_.make_state(*p_);
    default_pool();  // threads and their scratch exist before the first step
  }

  params& weights() { return *p_; }  ///< the weights
  const params& weights() const { return *p_; }  ///< the weights, read-only
  params& grads() { return *g_; }  ///< the gradient buffer
  /// The optimizer's settings. Change them through set_optimizer: decay rules and parameter
  /// groups are resolved per tensor when set, so a change through a reference would pass silently.
  const Optim& optimizer() const { return opt_; }
  /// New hyper-parameters, decay rule and groups, in effect from the next step; the optimizer's
  /// moments and step count are kept. A change that alters the state's buffers (SGD or RMSprop
  /// momentum switched on or off, RMSprop's centering) is refused: reset_optimizer() after it.
  void set_optimizer(Optim o) {
    optimizer_state fresh = o.make_state(*p_);  // checks o and resolves its settings
    std::string had, needs;
    state_.visit([&](const char* name, const auto&) { (had += name) += ' '; });
    fresh.visit([&](const char* name, const auto&) { (needs += name) += ' '; });
    if (had != needs)
      fail("set_optimizer: the new {} settings need state buffers [{}] where the current state has [{}]; "
           "call reset_optimizer() to start the state afresh",
           Optim::name, needs, had);
    state_.settings = std::move(fresh.settings);
    opt_ = std::move(o);
  }
  Sched& schedule() { return sched_; }  ///< the learning-rate schedule
  optimizer_state& state() { return state_; }  ///< the optimizer's state
  train_options& options() { return options_; }  ///< the step settings
  long steps_done() const { return state_.step; }  ///< optimizer steps done
  /// Rebuilds the optimizer state from scratch: zero moments, step count 0.
  void reset_optimizer() { state_ = opt_.make_state(*p_); }
  /// Replaces the optimizer by o, with a fresh state.
  void reset_optimizer(Optim o) {
    optimizer_state fresh = o.make_state(*p_);
    opt_ = std::move(o);
    state_ = std::move(fresh);
  }
  /// A pruning mask (optim/mask.hpp; deploy/prune.hpp makes them): applied now and after every optimizer step, so pruned
  /// weights stay zero while training goes on. Pass null to drop it.
  void set_mask(std::unique_ptr<params> mask) {
    mask_ = std::move(mask);
    if (mask_) apply_mask(*p_, *mask_);
  }

  /// One optimizer step over micro-batches. Throws ctformer::error (leaving the weights as they
  /// were) when the loss or the gradient norm is not finite.
  template <shaped_batch Batch, shaped_workspace WS>
    requires(check_batch_fits<Batch, WS>() && trainable_on<Model, Batch, WS>)
  step_stats train_step(std::span<const Batch> micro, WS& ws) {
    return ctformer::train_step<Model>(*p_, *g_, opt_, state_, sched_, micro, ws, options_, mask_.get());
  }
  /// One optimizer step on a single batch.
  template <shaped_batch Batch, shaped_workspace WS>
    requires(check_batch_fits<Batch, WS>() && trainable_on<Model, Batch, WS>)
  step_stats train_step(const Batch& batch, WS& ws) {
    return train_step(std::span<const Batch>(&batch, 1), ws);
  }

  /// Mean loss over one batch in eval mode (dropout off); no gradients.
  template <shaped_batch Batch, shaped_workspace WS>
    requires(check_batch_fits<Batch, WS>())
  loss_value eval_loss(const Batch& batch, WS& ws) {
    return Model::forward_loss(*p_, ws, batch, run_mode::eval(), T(options_.label_smoothing));
  }

  /// Mean loss over (up to `limit` batches of) a source, weighted by targets.
  template <class Batch, class WS>
  double evaluate(batch_source<Batch>& src, WS& ws, Batch& scratch, std::size_t limit = 0) {
    double sum = 0;
    std::size_t count = 0;
    const std::size_t n = limit ? std::min(limit, src.size()) : src.size();
    for (std::size_t i = 0; i < n; ++i) {
      src.get(i, scratch);
      const auto lv = eval_loss(scratch, ws);
      sum += lv.loss * double(lv.count);
      count += lv.count;
    }
    if (count == 0) fail("evaluate: the validation data has no targets");
    return sum / double(count);
  }

  /// Trains on `train` alone (no validation data). See fit_options.
  template <shaped_batch Batch>
    requires trainable_on<Model, Batch, workspace_for_t<Model, Batch>>
  fit_result fit(batch_source<Batch>& train, const fit_options& o) {
    return fit(train, static_cast<batch_source<Batch>*>(nullptr), o);
  }

  /// fit(train, nullptr, o): the same.
  template <shaped_batch Batch>
    requires trainable_on<Model, Batch, workspace_for_t<Model, Batch>>
  fit_result fit(batch_source<Batch>& train, std::nullptr_t, const fit_options& o) {
    return fit(train, static_cast<batch_source<Batch>*>(nullptr), o);
  }

  /// Trains on `train`, evaluating on `val` (optional). See fit_options.
  template <shaped_batch Batch>
    requires trainable_on<Model, Batch, workspace_for_t<Model, Batch>>
  fit_result fit(batch_source<Batch>& train, batch_source<Batch>* val, const fit_options& o) {
    using WS = workspace_for_t<Model, Batch>;
    if (train.size() == 0) fail("fit: the training data is empty");
    if (val && val->size() == 0) fail("fit: the validation data is empty");
    const bool validating = val || o.validation_score;
    if (o.accumulation == 0) fail("fit: accumulation must be at least 1");
    auto ws = std::make_unique<WS>();
    std::vector<Batch> micro(o.accumulation);
    auto eval_batch = std::make_unique<Batch>();
    std::unique_ptr<params> best;
    if (validating && o.restore_best) best = std::make_unique<params>(*p_);
    early_stopping stopper(early_stopping::options{o.mode, std::size_t(std::max(0L, o.patience)), o.min_delta});
    const std::string score_name =
        !o.score_name.empty() ? o.score_name : o.validation_score ? std::string("val_score") : std::string("val_loss");

    const std::size_t per_epoch = train.size();
    const long steps_per_epoch = long(std::max<std::size_t>(1, per_epoch / o.accumulation));
    const long total_steps = o.max_steps > 0 ? o.max_steps : o.epochs * steps_per_epoch;
    const long eval_every = o.eval_every > 0 ? o.eval_every : steps_per_epoch;
    constexpr std::size_t positions = batch_positions<Batch>();

    fit_result r;
    if (o.mode == stop_mode::max) r.best_score = -std::numeric_limits<double>::infinity();
    std::size_t cursor = 0, epoch = 0;
    namespace fs = std::filesystem;
    const bool checkpoints = !o.checkpoint_dir.empty();
    if (checkpoints) fs::create_directories(o.checkpoint_dir);
    auto fit_state = [&]() {
      json::value d;
      d.set("epoch", epoch);
      d.set("cursor", cursor);
      const auto& es = stopper.get_state();
      json::value e;
      e.set("has_best", es.has_best);
      e.set("best", fmt::format("{:a}", es.best));
      e.set("best_step", es.best_step);
      e.set("bad", es.bad);
      d.set("early_stopping", e);
      json::array hist;
      for (const auto& [st, v] : r.val_history) hist.push_back(json::value(json::array{json::value(st), json::value(fmt::format("{:a}", v))}));
      d.set("val_history", json::value(std::move(hist)));
      d.set("source", train.save_state());
      return d;
    };
    if (checkpoints && o.resume) {
      if (const auto latest = latest_checkpoint(o.checkpoint_dir); !latest.empty()) {
        /// Parsed into staging while load_checkpoint checks the rest: a bad field changes nothing.
        std::size_t epoch_in = 0, cursor_in = 0;
        early_stopping::state es;
        std::vector<std::pair<long, double>> history;
        const auto hex_double = [](const json::value& v) {
          const std::string& s = v.as_string();
          char* end = nullptr;
          const double x = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
          if (end != s.c_str() + s.size()) fail("'{}' is not a number", s);
          return x;
        };
        const checkpoint_state cs = load_checkpoint(latest, *this, [&](const json::value& d) {
          epoch_in = std::size_t(d.at("epoch").as_int());
          cursor_in = std::size_t(d.at("cursor").as_int());
          const auto& e = d.at("early_stopping");
          es.has_best = e.at("has_best").as_bool();
          es.best = hex_double(e.at("best"));
          es.best_step = std::size_t(e.at("best_step").as_int());
          es.bad = std::size_t(e.at("bad").as_int());
          for (const auto& h : d.at("val_history").as_array()) history.emplace_back(long(h.at(0).as_int()), hex_double(h.at(1)));
          d.at("source");
        });
        epoch = epoch_in;
        cursor = cursor_in;
        stopper.set_state(es);
        r.val_history = std::move(history);
        if (es.has_best) {
          r.best_score = es.best;
          r.best_step = long(es.best_step);
          const auto best_path = (fs::path(o.checkpoint_dir) / "best.safetensors").string();
          if (best && fs::exists(best_path)) detail::load_native(safetensors::file::read(best_path), *best, "model.");
        }
        train.load_state(cs.data.at("source"));
        r.resumed = true;
      }
    }
    auto write_checkpoint = [&](const std::string& name) {
      save_checkpoint((fs::path(o.checkpoint_dir) / name).string(), *this, fit_state());
    };
    auto prune_checkpoints = [&]() {
      std::vector<fs::path> all;
      for (const auto& e : fs::directory_iterator(o.checkpoint_dir))
        if (e.path().filename().string().rfind("step-", 0) == 0) all.push_back(e.path());
      std::sort(all.begin(), all.end());
      for (std::size_t i = 0; i + o.keep_last < all.size(); ++i) fs::remove(all[i]);
    };
    /// A resumed run appends to its log, after a record saying where it resumed.
    jsonl_log log(o.log_path, r.resumed);
    if (r.resumed && log.is_open()) {
      json::value rec;
      rec.set("resumed_at_step", long(state_.step));
      log.write(rec);
    }
    progress_bar bar(total_steps, o.progress, o.log_every * 5);
    interrupt_guard guard;
    train.start_epoch(epoch);
    double smooth = 0;
    bool first_step = true;
    double window_start = bar.seconds();
    std::size_t window_tokens = 0;
    for (long s = state_.step; s < total_steps; ++s) {
      for (auto& b : micro) {
        if (cursor == per_epoch) {
          cursor = 0;
          train.start_epoch(++epoch);
        }
        train.get(cursor++, b);
      }
      const step_stats st = train_step(std::span<const Batch>(micro), *ws);
      r.steps = st.step;
      r.last_loss = st.loss;
      smooth = first_step ? st.loss : 0.95 * smooth + 0.05 * st.loss;
      first_step = false;
      window_tokens += positions * o.accumulation;
      const double now = bar.seconds();
      const double tps = double(window_tokens) / std::max(1e-9, now - window_start);
      if (now - window_start > 2.0) {
        window_start = now;
        window_tokens = 0;
      }
      bar.update(s + 1, smooth, st.lr, tps);
      if (log.is_open() && (st.step % o.log_every == 0 || s + 1 == total_steps)) {
        json::value rec;
        rec.set("step", st.step);
        rec.set("loss", st.loss);
        rec.set("lr", st.lr);
        rec.set("grad_norm", st.grad_norm);
        rec.set("tokens_per_s", tps);
        rec.set("elapsed_s", now);
        log.write(rec);
      }
      const bool last = s + 1 == total_steps;
      if (validating && ((s + 1) % eval_every == 0 || last)) {
        const double vl = o.validation_score ? o.validation_score() : evaluate(*val, *ws, *eval_batch, o.eval_batches);
        r.val_history.emplace_back(st.step, vl);
        const bool stop = stopper.should_stop(vl, std::size_t(st.step));
        if (stopper.improved()) {
          r.best_score = vl;
          r.best_step = st.step;
          if (best) *best = *p_;
          if (checkpoints) write_checkpoint("best.safetensors");
        }
        bar.note(fmt::format("step {}: {} {:.4f}{}", st.step, score_name, vl,
                             stopper.improved() ? " (best)" : ""));
        if (log.is_open()) {
          json::value rec;
          rec.set("step", st.step);
          rec.set(score_name, vl);
          rec.set("best", stopper.improved());
          log.write(rec);
        }
        if (stop) {
          r.stopped_early = true;
          bar.note(fmt::format("early stopping: no improvement for {} evaluations (best {:.4f} at step {})",
                               stopper.bad_evaluations(), r.best_score, r.best_step));
          break;
        }
      }
      if (checkpoints && o.checkpoint_every > 0 && st.step % o.checkpoint_every == 0) {
        write_checkpoint(fmt::format("step-{:09d}.safetensors", st.step));
        prune_checkpoints();
      }
      if (interrupt_guard::requested()) {
        /// An interrupted run is unfinished: it writes a checkpoint to resume from (when it has a
        /// folder for them) but never save_path, which may hold a better, finished model.
        r.interrupted = true;
        if (checkpoints) {
          const std::string name = fmt::format("step-{:09d}.safetensors", st.step);
          write_checkpoint(name);
          prune_checkpoints();
          bar.note(fmt::format("interrupted after step {}: saved checkpoint {} (resume with fit_options::resume)",
                               st.step, (fs::path(o.checkpoint_dir) / name).string()));
        } else {
          bar.note(fmt::format("interrupted after step {}: stopping; nothing saved (no checkpoint_dir)", st.step));
        }
        if (!o.save_path.empty()) bar.note(fmt::format("{} was not written", o.save_path));
        break;
      }
    }
    bar.finish();
    if (r.interrupted) {
      r.seconds = bar.seconds();
      return r;  // the weights as they were at the interruption
    }
    if (best && r.best_step >= 0) *p_ = *best;
    if (!o.save_path.empty()) save_weights(o.save_path, *p_);
    r.seconds = bar.seconds();
    return r;
  }

 private:
  Optim opt_;
  Sched sched_;
  train_options options_;
  std::unique_ptr<params> p_, g_;
  optimizer_state state_;
  std::unique_ptr<params> mask_;
};

}  // namespace ctformer
