// A small fork-join thread pool: parallel_for(n, fn) runs fn(task, thread) for every task and
// returns when all are done. The calling thread takes part. Jobs are passed as a function
// pointer plus a context pointer, so dispatching allocates nothing. Each thread owns a fixed
// scratch buffer (GEMM packing) made once when the pool starts. Results never depend on the
// thread count because every caller gives each task a disjoint piece of the output. The calling
// thread's scratch is static storage, so a one-thread program (firmware) never touches the heap.
// Where threads are unavailable (CTFORMER_NO_THREADS, see base/platform.hpp) thread_pool has the
// same interface and one thread, and its scratch is CTFORMER_SCRATCH_BYTES of static storage
// (default 16 KiB on bare metal, which fits the GEMM blocks of float models; 5 MiB elsewhere).
#pragma once

#include <array>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "../base/platform.hpp"

#if !defined(CTFORMER_NO_THREADS)
#include <atomic>
#include <memory>
#include <thread>
#include <vector>
#endif

#if !defined(CTFORMER_SCRATCH_BYTES)
#if defined(CTFORMER_BARE_METAL)
#define CTFORMER_SCRATCH_BYTES (std::size_t{16} << 10)
#else
#define CTFORMER_SCRATCH_BYTES (std::size_t{5} << 20)
#endif
#endif

namespace ctformer {

#if defined(CTFORMER_NO_THREADS)

/// One thread: every task runs inline, in order, on the caller, with one static scratch buffer.
class thread_pool {
 public:
  static constexpr std::size_t scratch_bytes = CTFORMER_SCRATCH_BYTES;  ///< bytes of the one static scratch buffer
  static constexpr unsigned max_threads = 1;  ///< always 1
  struct process_wide {};

  /// A pool of one thread, whatever the count asked for.
  explicit thread_pool(unsigned = 1) {}
  /// The process-wide pool; the same one thread.
  thread_pool(unsigned, process_wide) {}
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Always 1.
  unsigned size() const noexcept { return 1; }
  /// Does nothing: there is only one thread.
  void resize(unsigned) {}
  /// The one static scratch buffer of scratch_bytes bytes.
  std::byte* scratch() noexcept {
    alignas(64) static std::byte buffer[scratch_bytes];
    return buffer;
  }
  /// Runs fn(task, 0) for task in [0, tasks), in order, on the caller.
  template <class F>
  void parallel_for(std::size_t tasks, F&& fn) {
    for (std::size_t t = 0; t < tasks; ++t) fn(t, 0u);
  }
};

#else

class thread_pool {
 public:
  /// Bytes of scratch each thread owns; GEMM packing buffers fit in it for float and double.
  static constexpr std::size_t scratch_bytes = CTFORMER_SCRATCH_BYTES;
  static constexpr unsigned max_threads = 256;

  explicit thread_pool(unsigned threads = 1) { start(threads == 0 ? 1 : threads); }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() { stop(); }

  unsigned size() const noexcept { return n_threads_; }

  /// Scratch of the thread running the current task (or of the caller outside tasks).
  std::byte* scratch() noexcept {
    const unsigned i = current_thread_index();
    if (i == 0 && static_caller_scratch_) return caller_scratch();
    return scratch_[i].get();
  }

  /// The process-wide pool keeps its calling thread's scratch in static storage (see
  /// default_pool): a single-threaded program then never allocates. Other pools use the heap.
  struct process_wide {};
  thread_pool(unsigned threads, process_wide) : static_caller_scratch_(true) { start(threads == 0 ? 1 : threads); }

  /// Stops the workers and starts `threads` new ones. Not to be called from inside a task.
  void resize(unsigned threads) {
    if (threads == 0) threads = 1;
    if (threads == n_threads_) return;
    stop();
    start(threads);
  }

  /// Runs fn(task, thread) for task in [0, tasks). Inside a task, nested calls run inline.
  template <class F>
  void parallel_for(std::size_t tasks, F&& fn) {
    if (tasks == 0) return;
    if (n_threads_ == 1 || tasks == 1 || in_task()) {
      const unsigned me = current_thread_index();
      for (std::size_t t = 0; t < tasks; ++t) fn(t, me);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    job_fn_ = [](void* ctx, std::size_t task, unsigned thread) {
      (*static_cast<Fn*>(ctx))(task, thread);
    };
    job_ctx_ = const_cast<void*>(static_cast<const void*>(&fn));
    job_tasks_ = tasks;
    next_task_.store(0, std::memory_order_relaxed);
    pending_.store(n_threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();

    in_task() = true;
    run_tasks(0);
    in_task() = false;

    // Wait for the workers to finish their share.
    for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin > 1 << 14) {
        unsigned p = pending_.load(std::memory_order_acquire);
        if (p != 0) pending_.wait(p, std::memory_order_acquire);
      }
    }
  }

 private:
  static unsigned& current_thread_index_ref() noexcept {
    static thread_local unsigned idx = 0;
    return idx;
  }
  static unsigned current_thread_index() noexcept { return current_thread_index_ref(); }
  static bool& in_task() noexcept {
    static thread_local bool flag = false;
    return flag;
  }

  struct aligned_free {
    void operator()(std::byte* p) const noexcept { ::operator delete[](p, std::align_val_t{64}); }
  };
  using scratch_ptr = std::unique_ptr<std::byte[], aligned_free>;

  /// Scratch of the default pool's calling thread.
  static std::byte* caller_scratch() noexcept {
    alignas(64) static std::byte buffer[scratch_bytes];
    return buffer;
  }

  void start(unsigned threads) {
    threads = threads > max_threads ? max_threads : threads;
    n_threads_ = threads;
    stopping_.store(false);
    for (auto& sp : scratch_) sp.reset();
    for (unsigned i = static_caller_scratch_ ? 1 : 0; i < threads; ++i)
      scratch_[i].reset(static_cast<std::byte*>(::operator new[](scratch_bytes, std::align_val_t{64})));
    workers_.clear();
    /// Workers start from the generation current now, so a job posted before they run is seen.
    const unsigned long gen = generation_.load();
    for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this, i, gen] { worker(i, gen); });
  }

  void stop() {
    stopping_.store(true);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  void run_tasks(unsigned thread) {
    for (;;) {
      std::size_t t = next_task_.fetch_add(1, std::memory_order_relaxed);
      if (t >= job_tasks_) break;
      job_fn_(job_ctx_, t, thread);
    }
  }

  void worker(unsigned index, unsigned long seen) {
    current_thread_index_ref() = index;
    in_task() = true;
    for (;;) {
      /// Spin briefly (steps dispatch many small jobs back to back), then sleep.
      unsigned long g;
      for (int spin = 0;; ++spin) {
        g = generation_.load(std::memory_order_acquire);
        if (g != seen) break;
        if (spin > 1 << 14) generation_.wait(seen, std::memory_order_acquire);
      }
      seen = g;
      if (stopping_.load()) return;
      run_tasks(index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
  }

  bool static_caller_scratch_ = false;
  unsigned n_threads_ = 1;
  std::vector<std::thread> workers_;
  std::array<scratch_ptr, max_threads> scratch_{};
  std::atomic<unsigned long> generation_{0};
  std::atomic<unsigned> pending_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> next_task_{0};
  void (*job_fn_)(void*, std::size_t, unsigned) = nullptr;
  void* job_ctx_ = nullptr;
  std::size_t job_tasks_ = 0;
};

#endif  // CTFORMER_NO_THREADS

namespace detail {
inline unsigned default_thread_count() {
#if !defined(CTFORMER_BARE_METAL)
  if (const char* env = std::getenv("CTFORMER_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return static_cast<unsigned>(n);
  }
#endif
  return 1;
}
}  // namespace detail

/// The process-wide pool used by layers and models. One thread unless CTFORMER_NUM_THREADS or
/// set_num_threads() says otherwise.
inline thread_pool& default_pool() {
  static thread_pool pool(detail::default_thread_count(), thread_pool::process_wide{});
  return pool;
}
inline void set_num_threads(unsigned n) { default_pool().resize(n); }
inline unsigned num_threads() { return default_pool().size(); }

}  // namespace ctformer
