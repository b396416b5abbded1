// load_weights and load_pretrained are transactions: a fault injected at every stage (a tensor
// missing, reshaped, resized, retyped or unexpected; the file cut short or its header scribbled
// over; another model's file) throws a ctformer::error naming the file, and the target params are
// bit for bit as they were. The intact file then loads, so the comparison does see a load.
#include <catch2/catch.hpp>

#include <ctformer/io/checkpoint.hpp>
#include <ctformer/io/weights.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/train/trainer.hpp>

#include "support/load_failures.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "support/test_support.hpp"

using namespace ctformer;
using namespace ctformer::testing;
namespace fs = std::filesystem;

namespace {

constexpr gpt_config cfg{.vocab = 16, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 2};
constexpr gpt_config wider{.vocab = 16, .context = 8, .d_model = 32, .heads = 2, .d_ff = 32, .layers = 2};
using gpt = decoder_lm<cfg>;

constexpr bert_config bcfg{.vocab = 30, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};
constexpr bert_config bwider{.vocab = 30, .context = 8, .d_model = 32, .heads = 2, .d_ff = 32, .layers = 1};

template <class P>
std::vector<unsigned char> bytes_of(const P& p) {
  std::vector<unsigned char> b;
  append_bytes(b, p);
  return b;
}

template <class P>
void nudge(P& p, float by) {
  for_each_tensor(p, [&](const tensor_info&, auto& t) {
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] += by * float(1 + i % 5);
  });
}

struct fault {
  std::string what;
  std::string path;
  std::string named;  // besides the path
};

// Faulty copies of `good`: its first and last tensor each dropped, reshaped, resized and retyped,
// an extra tensor, the header scribbled over, the file cut short.
std::vector<fault> faults_of(const std::string& good, const fs::path& dir, const std::string& tag) {
  const auto f = safetensors::file::read(good);
  std::vector<fault> out;
  int n = 0;
  const auto at = [&] { return (dir / (tag + std::to_string(n++) + ".safetensors")).string(); };
  for (const std::string& victim : {f.tensors().front().name, f.tensors().back().name}) {
    const auto add = [&](const std::string& what, const std::function<void(tensor_copy&)>& edit) {
      const std::string p = at();
      rewrite(f, p, [&](tensor_copy& c) {
        if (c.name == victim) edit(c);
      });
      out.push_back({what + " " + victim, p, victim});
    };
    add("missing", [](tensor_copy& c) { c.keep = false; });
    add("reshaped", [](tensor_copy& c) {
      std::size_t total = 1;
      for (auto d : c.shape) total *= d;
      c.shape = c.shape.size() == 1 ? std::vector<std::size_t>{1, total} : std::vector<std::size_t>{total};
    });
    add("resized", [](tensor_copy& c) { c.shape.front() += 1; });
    add("retyped to I64", [](tensor_copy& c) { c.type = safetensors::dtype::I64; });
    add("retyped to BOOL", [](tensor_copy& c) { c.type = safetensors::dtype::BOOL; });
  }
  {
    const std::string p = at();
    safetensors::writer w;
    for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
    for (const auto& e : f.tensors()) w.add(e.name, e.type, e.shape, f.data(e));
    const float extra[2] = {1, 2};
    w.add(f.tensors().back().name + ".extra", safetensors::dtype::F32, {2}, extra);
    w.save(p);
    out.push_back({"an unexpected tensor", p, "unexpected tensor"});
  }
  const auto bytes = read_bytes(good);
  {
    auto b = bytes;
    for (std::size_t i = 8; i < 40; ++i) b[i] = '#';
    const std::string p = at();
    write_bytes(p, b, b.size());
    out.push_back({"scribbled header", p, "corrupt header"});
  }
  for (std::size_t cut : cut_points(bytes)) {
    const std::string p = at();
    write_bytes(p, bytes, cut);
    out.push_back({"cut at " + std::to_string(cut), p, "truncated"});
  }
  return out;
}

}  // namespace

TEST_CASE("a failed load_weights leaves the params exactly as they were", "[io]") {
  const auto dir = testing::temp_path("weights_transaction");
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto src = std::make_unique<gpt::params>();
  gpt::init(*src, 1);
  nudge(*src, 1e-3f);
  auto target = std::make_unique<gpt::params>();
  gpt::init(*target, 2);
  const auto before = bytes_of(*target);

  for (const auto layout : {weight_layout::huggingface, weight_layout::native}) {
    const std::string tag = layout == weight_layout::native ? "native" : "hf";
    const std::string good = (dir / (tag + ".safetensors")).string();
    save_weights(good, *src, {.layout = layout});
    auto faults = faults_of(good, dir, tag);
    // Another model's weights (the same names, other shapes).
    auto other = std::make_unique<decoder_lm<wider>::params>();
    decoder_lm<wider>::init(*other, 3);
    faults.push_back({"another model", (dir / (tag + "_wider.safetensors")).string(), "has shape"});
    save_weights(faults.back().path, *other, {.layout = layout});

    load_options o;
    o.layout = layout;
    for (const auto& f : faults) {
      INFO(tag << ": " << f.what);
      const std::string msg = error_of([&] { load_weights(f.path, *target, o); });
      CHECK_THAT(msg, Catch::Contains(f.path) && Catch::Contains(f.named));
      CHECK(bytes_of(*target) == before);
    }
    // validate_only checks and writes nothing, even for a good file.
    o.validate_only = true;
    load_weights(good, *target, o);
    CHECK(bytes_of(*target) == before);
  }
  // The intact file loads, in either layout, bit for bit.
  load_weights((dir / "hf.safetensors").string(), *target);
  CHECK(bytes_of(*target) == bytes_of(*src));
  gpt::init(*target, 2);
  load_weights((dir / "native.safetensors").string(), *target, {.layout = weight_layout::native});
  CHECK(bytes_of(*target) == bytes_of(*src));
  fs::remove_all(dir);
}

TEST_CASE("a failed load_pretrained leaves the params exactly as they were", "[io]") {
  using pretrain = encoder<bcfg, mlm>;
  using finetune = encoder<bcfg, classify<2>>;
  const auto dir = testing::temp_path("pretrained_transaction");
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto pre = std::make_unique<trainer<pretrain, adamw>>();
  nudge(pre->weights(), 1e-3f);
  const std::string ckpt = (dir / "ckpt.safetensors").string();
  const std::string hf = (dir / "hf.safetensors").string();
  save_checkpoint(ckpt, *pre);
  save_weights(hf, pre->weights(), {.prefix = "bert."});

  auto target = std::make_unique<finetune::params>();
  finetune::init(*target, 9);
  const auto before = bytes_of(*target);
  const auto head_before = bytes_of(target->head);
  const std::vector<std::string> body = {"embeddings.", "encoder."};

  std::size_t refused = 0;
  for (const auto& [tag, good] : {std::pair<std::string, std::string>{"ckpt", ckpt}, {"hf", hf}}) {
    auto faults = faults_of(good, dir, tag);
    // Another model's pretraining.
    auto other = std::make_unique<trainer<encoder<bwider, mlm>, adamw>>();
    faults.push_back({"another model", (dir / (tag + "_wider.safetensors")).string(), "has shape"});
    if (tag == "ckpt") save_checkpoint(faults.back().path, *other);
    else save_weights(faults.back().path, other->weights(), {.prefix = "bert."});
    for (const auto& f : faults) {
      // Faults in tensors load_pretrained never reads (the MLM head; unexpected extras) are not
      // faults for it: those files must load the body completely instead.
      const auto file_ok = [&] {
        try {
          auto probe = std::make_unique<finetune::params>();
          load_pretrained(f.path, *probe, body);
          return true;
        } catch (const error&) {
          return false;
        }
      }();
      INFO(tag << ": " << f.what);
      if (file_ok) {
        auto probe = std::make_unique<finetune::params>();
        finetune::init(*probe, 9);
        load_pretrained(f.path, *probe, body);
        CHECK(bytes_of(probe->body) == bytes_of(pre->weights().body));
        continue;
      }
      ++refused;
      const std::string msg = error_of([&] { load_pretrained(f.path, *target, body); });
      CHECK_THAT(msg, Catch::Contains(f.path) && Catch::Contains(f.named));
      CHECK(bytes_of(*target) == before);
    }
  }
  CHECK(refused >= 20);  // most faults are in the body or the file itself
  // The intact files load the body and leave the head.
  for (const auto& good : {ckpt, hf}) {
    finetune::init(*target, 9);
    CHECK(load_pretrained(good, *target, body) > 0);
    CHECK(bytes_of(target->body) == bytes_of(pre->weights().body));
    CHECK(bytes_of(*target) != before);
    CHECK(bytes_of(target->head) == head_before);
  }
  fs::remove_all(dir);
}
