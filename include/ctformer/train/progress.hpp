// What a training run shows and records: a progress bar with ETA and running loss when stdout is
// a terminal (plain lines otherwise), a JSON-lines log, and Ctrl-C turned into a polite request to
// stop after the current step.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "../error.hpp"
#include "../io/json.hpp"

namespace ctformer {

// ---- Ctrl-C -------------------------------------------------------------------------------------
namespace detail {
inline volatile sig_atomic_t& stop_flag() {
  static volatile sig_atomic_t flag = 0;
  return flag;
}
extern "C" inline void ctformer_on_sigint(int) { stop_flag() = 1; }
}  // namespace detail

/// While alive, SIGINT (and SIGTERM) only set a flag that the training loop polls between steps;
/// the previous handlers come back on destruction. A second Ctrl-C is not swallowed: the handler
/// resets itself to the default after the first.
class interrupt_guard {
 public:
  interrupt_guard() {
    detail::stop_flag() = 0;
    struct sigaction sa {};
    sa.sa_handler = detail::ctformer_on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~interrupt_guard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;
  /// True once SIGINT or SIGTERM has arrived since the guard was installed.
  static bool requested() { return detail::stop_flag() != 0; }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

// ---- JSON lines -----------------------------------------------------------------------------------
/// A JSON-lines log: one record per line, flushed after each.
class jsonl_log {
 public:
  jsonl_log() = default;
  /// append: keep the records already there (a resumed run continues its log).
  explicit jsonl_log(const std::string& path, bool append = false) { open(path, append); }
  /// Opens path for writing (truncating unless append); an empty path leaves the log closed.
  void open(const std::string& path, bool append = false) {
    if (path.empty()) return;
    out_.open(path, std::ios::out | (append ? std::ios::app : std::ios::trunc));
    if (!out_) fail("cannot open the log file '{}' for writing", path);
  }
  /// A file is open.
  bool is_open() const { return out_.is_open(); }
  /// Appends record as one line; does nothing when no file is open.
  void write(const json::value& record) {
    if (!out_.is_open()) return;
    out_ << record.dump() << '\n';
    out_.flush();
  }

 private:
  std::ofstream out_;
};

// ---- progress ---------------------------------------------------------------------------------------
inline std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  const long t = long(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

/// Training progress on stdout: a redrawn bar (terminal), periodic lines, or nothing.
class progress_bar {
 public:
  /// automatic: a bar on a terminal, else lines; quiet prints nothing.
  enum class style { automatic, bar, lines, quiet };

  /// Progress over total steps; lines style prints every line_every steps and at the end.
  progress_bar(long total, style s = style::automatic, long line_every = 50)
      : total_(total), line_every_(line_every > 0 ? line_every : 1), start_(clock::now()) {
    if (s == style::automatic) s = ::isatty(::fileno(stdout)) ? style::bar : style::lines;
    style_ = s;
  }

  /// Called after each step with the running (smoothed) loss.
  void update(long step, double loss, double lr, double tokens_per_s) {
    if (style_ == style::quiet) return;
    const double elapsed = seconds();
    const double eta = step > 0 ? elapsed / double(step) * double(total_ - step) : -1;
    if (style_ == style::bar) {
      constexpr int width = 28;
      const int filled = total_ > 0 ? int(double(width) * double(step) / double(total_)) : 0;
      std::string bar(std::size_t(filled), '#');
      bar.resize(width, '.');
      std::printf("\r[%s] %5.1f%% %ld/%ld loss %.4f lr %.2e %.0f tok/s %s ETA %s ", bar.c_str(),
                  total_ > 0 ? 100.0 * double(step) / double(total_) : 0.0, step, total_, loss, lr,
                  tokens_per_s, format_duration(elapsed).c_str(), format_duration(eta).c_str());
      std::fflush(stdout);
      dirty_ = true;
    } else if (step % line_every_ == 0 || step == total_) {
      std::printf("step %ld/%ld loss %.4f lr %.2e %.0f tok/s elapsed %s ETA %s\n", step, total_, loss, lr,
                  tokens_per_s, format_duration(elapsed).c_str(), format_duration(eta).c_str());
      std::fflush(stdout);
    }
  }
  /// A message on its own line (evaluation results, early stopping).
  void note(const std::string& text) {
    if (style_ == style::quiet) return;
    if (dirty_) std::printf("\n");
    dirty_ = false;
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }
  /// Ends the bar's line, if one is being drawn.
  void finish() {
    if (dirty_) std::printf("\n");
    dirty_ = false;
  }
  /// Seconds since construction.
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

 private:
  using clock = std::chrono::steady_clock;
  long total_;
  long line_every_;
  style style_ = style::lines;
  clock::time_point start_;
  bool dirty_ = false;
};

}  // namespace ctformer
