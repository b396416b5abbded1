// Training-state checkpoints: exact resume across two processes (bit-identical to a straight run),
// a process killed in the middle of a save leaves the previous checkpoint loadable, corrupt,
// truncated and wrong-model checkpoints fail with clear messages, fit keeps the last N and the best.
#include <catch2/catch.hpp>

#include <ctformer/io/checkpoint.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

#include "train/workers/resume_models.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include "support/test_support.hpp"

using namespace ctformer;
namespace fs = std::filesystem;

extern char** environ;

namespace {

const std::string worker = CTFORMER_WORKER_resume_worker;

fs::path fresh_dir(const std::string& name) {
  const auto d = testing::temp_path("ckpt_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

int run(const std::string& cmd) { return std::system((cmd + " > /dev/null").c_str()); }

std::vector<char> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

constexpr gpt_config cfg{.vocab = 32, .context = 16, .d_model = 32, .heads = 4, .d_ff = 64, .layers = 2,
                         .dropout = 0.1f};
constexpr gpt_config other_cfg{.vocab = 32, .context = 16, .d_model = 32, .heads = 4, .d_ff = 64, .layers = 3,
                               .dropout = 0.1f};
using model = decoder_lm<cfg>;
using trainer_t = trainer<model, adamw, warmup_cosine>;

}  // namespace

TEST_CASE("resuming in a new process gives bit-identical weights", "[train]") {
  const auto d = fresh_dir("resume");
  const auto straight = (d / "straight.safetensors").string();
  const auto resumed = (d / "resumed.safetensors").string();
  const auto ckpt = (d / "ckpt").string();
  REQUIRE(run(worker + " straight 24 " + straight) == 0);
  REQUIRE(run(worker + " first 12 " + ckpt) == 0);
  REQUIRE(fs::exists(fs::path(ckpt) / "step-000000012.safetensors"));
  REQUIRE(run(worker + " second 24 " + ckpt + " " + resumed) == 0);
  const auto a = safetensors::file::read(straight), b = safetensors::file::read(resumed);
  REQUIRE(a.tensors().size() == b.tensors().size());
  std::size_t compared = 0;
  for (const auto& e : a.tensors()) {
    const auto* f = b.find(e.name);
    REQUIRE(f);
    INFO(e.name);
    REQUIRE(std::memcmp(a.data(e), b.data(*f), e.end - e.begin) == 0);
    ++compared;
  }
  CHECK(compared == a.tensors().size());
  fs::remove_all(d);
}

TEST_CASE("killing a process in the middle of a save never destroys the last good checkpoint", "[train]") {
  const auto d = fresh_dir("kill");
  const auto path = (d / "state.safetensors").string();
  int mid_save_kills = 0;
  for (int round = 0; round < 20; ++round) {
    pid_t pid;
    char* argv[] = {const_cast<char*>(worker.c_str()), const_cast<char*>("save-loop"),
                    const_cast<char*>(path.c_str()), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    REQUIRE(posix_spawn(&pid, worker.c_str(), &fa, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    // Let it complete at least one save, then kill it: in odd rounds as soon as the next save has
    // started writing (its temporary file exists), in even rounds at a varying moment.
    for (int wait = 0; wait < 1000 && !fs::exists(path); ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (round % 2) {
      auto writing = [&] {
        std::error_code ec;  // the file may be renamed under our feet
        for (const auto& e : fs::directory_iterator(d, ec))
          if (e.path().string().find(".tmp.") != std::string::npos && fs::file_size(e.path(), ec) > (1u << 20) && !ec)
            return true;
        return false;
      };
      for (int wait = 0; wait < 5000 && !writing(); ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(37 * round + 5));
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    bool temp_left = false;
    for (const auto& e : fs::directory_iterator(d)) temp_left |= e.path().string().find(".tmp.") != std::string::npos;
    if (temp_left) ++mid_save_kills;  // it died between creating the temporary file and the rename
    // Whatever the moment, the checkpoint at `path` is complete and loads.
    auto t = std::make_unique<testing::big_trainer>();
    REQUIRE_NOTHROW(load_checkpoint(path, *t));
    CHECK(t->steps_done() >= 1);
    for (const auto& e : fs::directory_iterator(d))
      if (e.path().string().find(".tmp.") != std::string::npos) fs::remove(e.path());
  }
  INFO("kills that landed during a save (a temporary file was being written): " << mid_save_kills);
  CHECK(mid_save_kills >= 1);
  fs::remove_all(d);
}

TEST_CASE("corrupt, truncated and wrong-model checkpoints fail with clear messages", "[train]") {
  const auto d = fresh_dir("bad");
  const auto good = (d / "good.safetensors").string();
  auto t = std::make_unique<trainer_t>();
  save_checkpoint(good, *t);
  auto bytes = slurp(good);
  auto write = [&](const std::string& name, const std::vector<char>& b) {
    const auto p = (d / name).string();
    std::ofstream(p, std::ios::binary).write(b.data(), std::streamsize(b.size()));
    return p;
  };
  auto before = std::make_unique<model::params>(t->weights());
  auto unchanged = [&] {
    bool same = true;
    for_each_tensor(*before, t->weights(), [&](const tensor_info&, const auto& a, const auto& b) {
      same = same && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    });
    return same;
  };

  auto truncated = bytes;
  truncated.resize(bytes.size() / 2);
  CHECK_THROWS_WITH(load_checkpoint(write("truncated.safetensors", truncated), *t),
                    Catch::Contains("is truncated") && Catch::Contains("needs bytes"));
  auto corrupt = bytes;
  for (std::size_t i = 8; i < 40; ++i) corrupt[i] = '#';  // scribble over the JSON header
  CHECK_THROWS_WITH(load_checkpoint(write("corrupt.safetensors", corrupt), *t), Catch::Contains("corrupt header"));
  CHECK(unchanged());

  // The weights of another model type.
  auto other = std::make_unique<trainer<decoder_lm<other_cfg>, adamw, warmup_cosine>>();
  const auto other_path = (d / "other.safetensors").string();
  save_checkpoint(other_path, *other);
  try {
    load_checkpoint(other_path, *t);
    FAIL("no error");
  } catch (const error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("was written for another model"));
    CHECK_THAT(msg, Catch::Contains("checkpoint: decoder_lm<float>gpt_config{vocab=32, context=16, d_model=32, heads=4, d_ff=64, layers=3"));
    CHECK_THAT(msg, Catch::Contains("this model: decoder_lm<float>gpt_config{vocab=32, context=16, d_model=32, heads=4, d_ff=64, layers=2"));
  }
  // Another optimizer, and plain weights that are not a checkpoint.
  auto sgd_t = std::make_unique<trainer<model, sgd>>();
  CHECK_THROWS_WITH(load_checkpoint(good, *sgd_t), Catch::Contains("holds adamw state but this trainer uses sgd"));
  const auto weights_only = (d / "weights.safetensors").string();
  save_weights(weights_only, t->weights());
  CHECK_THROWS_WITH(load_checkpoint(weights_only, *t), Catch::Contains("is not a ctformer checkpoint"));
  CHECK(unchanged());
  fs::remove_all(d);
}

TEST_CASE("fit keeps the last N checkpoints and the best one", "[train]") {
  const auto d = fresh_dir("keep");
  constexpr gpt_config small{.vocab = 16, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};
  using M = decoder_lm<small>;
  trainer<M, adamw> t;
  auto fill = [](std::size_t i, token_batch<2, 8>& b) {
    for (std::size_t r = 0; r < 2; ++r)
      for (std::size_t s = 0; s < 8; ++s) {
        b.ids(r, s) = std::int32_t((i + r + s * 3) % 16);
        b.targets(r, s) = std::int32_t((i + r + s * 3 + 3) % 16);
        b.attention_mask(r, s) = 1;
        b.token_type(r, s) = 0;
      }
  };
  function_source<token_batch<2, 8>> train(4, fill), val(1, fill);
  fit_options o;
  o.max_steps = 20;
  o.eval_every = 5;
  o.checkpoint_dir = d.string();
  o.checkpoint_every = 2;
  o.keep_last = 3;
  o.progress = progress_bar::style::quiet;
  t.fit(train, &val, o);
  std::vector<std::string> steps;
  for (const auto& e : fs::directory_iterator(d)) steps.push_back(e.path().filename().string());
  std::sort(steps.begin(), steps.end());
  REQUIRE(steps.size() == 4);
  CHECK(steps[0] == "best.safetensors");
  CHECK(steps[1] == "step-000000016.safetensors");
  CHECK(steps[3] == "step-000000020.safetensors");
  CHECK(latest_checkpoint(d.string()) == (d / "step-000000020.safetensors").string());
  fs::remove_all(d);
}
