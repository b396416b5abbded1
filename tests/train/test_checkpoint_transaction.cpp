// load_checkpoint is a transaction: a fault injected at every stage (a tensor missing, reshaped,
// retyped or resized; every training-state field missing or malformed; the file cut short; another
// model, optimizer or format) throws a ctformer::error naming the file (and the field), and leaves
// the trainer's weights, gradients, optimizer moments, step, seed, learning rate and schedule
// bit for bit as they were. rng_state_from_json refuses malformed states the same way.
#include <catch2/catch.hpp>

#include <ctformer/io/checkpoint.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

#include "support/load_failures.hpp"

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>
#include "support/test_support.hpp"

using namespace ctformer;
using namespace ctformer::testing;
namespace fs = std::filesystem;

namespace {

constexpr gpt_config cfg{.vocab = 16, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 2,
                         .dropout = 0.1f};
constexpr gpt_config other_cfg{.vocab = 16, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1,
                               .dropout = 0.1f};
using model = decoder_lm<cfg>;
using trainer_t = trainer<model, adamw, warmup_cosine>;

template <class Trainer>
void train_steps(Trainer& t, int steps, unsigned salt) {
  using M = typename Trainer::model_type;
  auto batch = std::make_unique<token_batch<2, 8>>();
  auto ws = std::make_unique<typename M::template workspace<2, 8>>();
  for (std::size_t i = 0; i < batch->ids.size(); ++i) {
    batch->ids.data()[i] = std::int32_t((i * 5 + salt) % 16);
    batch->targets.data()[i] = std::int32_t((i * 3 + salt + 1) % 16);
    batch->attention_mask.data()[i] = 1;
    batch->token_type.data()[i] = 0;
  }
  for (int s = 0; s < steps; ++s) t.train_step(*batch, *ws);
}

// Everything a load could touch, as bytes and values.
struct snapshot {
  std::vector<unsigned char> weights, grads, moments;
  long step = 0;
  std::uint64_t seed = 0;
  double lr = 0;
  warmup_cosine sched;
  bool operator==(const snapshot& o) const {
    return weights == o.weights && grads == o.grads && moments == o.moments && step == o.step && seed == o.seed &&
           std::memcmp(&lr, &o.lr, sizeof lr) == 0 && std::memcmp(&sched, &o.sched, sizeof sched) == 0;
  }
};
snapshot take(trainer_t& t) {
  snapshot s;
  append_bytes(s.weights, t.weights());
  append_bytes(s.grads, t.grads());
  t.state().visit([&](const char*, const auto& buf) { append_bytes(s.moments, buf); });
  s.step = t.state().step;
  s.seed = t.options().seed;
  s.lr = t.optimizer().lr;
  s.sched = t.schedule();
  return s;
}

// The training-state JSON of a checkpoint with one member replaced (or removed when v is absent).
std::string edit_state(const std::string& text, const std::string& key, const json::value* v) {
  const json::value st = json::value::parse(text);
  json::value out;
  bool replaced = false;
  for (const auto& [k, old] : st.as_object()) {
    if (k != key) {
      out.set(k, old);
    } else if (v) {
      out.set(k, *v);
      replaced = true;
    }
  }
  if (v && !replaced) out.set(key, *v);
  return out.dump();
}

struct fault {
  std::string what;                // for the report
  std::string path;                // the faulty file
  std::vector<std::string> names;  // what the message must name besides the path
};

}  // namespace

TEST_CASE("a failed load_checkpoint leaves the trainer exactly as it was", "[train][io]") {
  const auto dir = testing::temp_path("ckpt_transaction");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto at = [&](const std::string& name) { return (dir / name).string(); };

  // The checkpoint comes from a trainer two steps in, with another seed and another schedule
  // position; the target has taken one step of its own, so every part differs.
  train_options src_opt;
  src_opt.seed = 4242;
  auto src = std::make_unique<trainer_t>(adamw{}, warmup_cosine{.lr = 1e-2, .warmup = 2, .total = 10}, src_opt);
  train_steps(*src, 2, 1);
  const std::string good = at("good.safetensors");
  json::value data;
  data.set("cursor", 7);
  save_checkpoint(good, *src, data);
  const auto good_file = safetensors::file::read(good);
  const std::string state_text = *good_file.metadata("ctformer.state");

  auto t = std::make_unique<trainer_t>(adamw{}, warmup_cosine{.lr = 3e-3, .warmup = 5, .total = 50});
  train_steps(*t, 1, 2);
  const snapshot before = take(*t);

  std::vector<fault> faults;
  // -- tensors: the first model tensor and the last optimizer tensor in the file, each dropped,
  // reshaped, resized and retyped (dropping the last one used to come after the weights were copied).
  std::string first_model, last_optim;
  for (const auto& e : good_file.tensors()) {
    if (first_model.empty() && e.name.rfind("model.", 0) == 0) first_model = e.name;
    if (e.name.rfind("optim.", 0) == 0) last_optim = e.name;
  }
  REQUIRE(!first_model.empty());
  REQUIRE(!last_optim.empty());
  int n = 0;
  for (const std::string& victim : {first_model, last_optim}) {
    const auto add = [&](const std::string& what, const std::function<void(tensor_copy&)>& edit) {
      const std::string p = at("tensor" + std::to_string(n++) + ".safetensors");
      rewrite(good_file, p, [&](tensor_copy& c) {
        if (c.name == victim) edit(c);
      });
      faults.push_back({what + " " + victim, p, {victim}});
    };
    add("missing", [](tensor_copy& c) { c.keep = false; });
    add("reshaped", [](tensor_copy& c) {
      std::size_t total = 1;
      for (auto d : c.shape) total *= d;
      c.shape = c.shape.size() == 1 ? std::vector<std::size_t>{1, total} : std::vector<std::size_t>{total};
    });
    add("resized", [](tensor_copy& c) { c.shape.back() += 1; });
    add("retyped to I32", [](tensor_copy& c) { c.type = safetensors::dtype::I32; });
    add("retyped to U8", [](tensor_copy& c) { c.type = safetensors::dtype::U8; });
  }

  // -- training-state fields: missing, of the wrong JSON type, malformed or out of range.
  const auto state_fault = [&](const std::string& what, const std::string& key, const json::value* v) {
    const std::string p = at("state" + std::to_string(n++) + ".safetensors");
    rewrite(good_file, p, nullptr, [&](const std::string& k, std::string& value) {
      if (k == "ctformer.state") value = edit_state(state_text, key, v);
    });
    faults.push_back({what, p, {"field '" + key + "'"}});
  };
  for (const char* key : {"step", "seed", "optimizer", "data"}) state_fault(std::string("no ") + key, key, nullptr);
  const json::value bad_seeds[] = {json::value("abc"), json::value("-1"), json::value("18446744073709551616"),
                                   json::value(""), json::value(" 5"), json::value("5x"), json::value("0x10"),
                                   json::value(12), json::value(nullptr)};
  for (const auto& v : bad_seeds) state_fault("seed " + v.dump(), "seed", &v);
  const json::value bad_steps[] = {json::value("3"), json::value(-1), json::value(2.5), json::value(1e300)};
  for (const auto& v : bad_steps) state_fault("step " + v.dump(), "step", &v);
  const json::value bad_optimizer = json::value(5);
  state_fault("optimizer 5", "optimizer", &bad_optimizer);

  // -- the state as a whole, and the other metadata.
  const auto meta_fault = [&](const std::string& what, const std::string& key, const std::string& value,
                              const std::string& named) {
    const std::string p = at("meta" + std::to_string(n++) + ".safetensors");
    rewrite(good_file, p, nullptr, [&](const std::string& k, std::string& v) {
      if (k == key) v = value;
    });
    faults.push_back({what, p, {named}});
  };
  meta_fault("state not an object", "ctformer.state", "[1, 2]", "not a JSON object");
  meta_fault("state not JSON", "ctformer.state", "{\"step\": ", "corrupt training state");
  meta_fault("another format", "ctformer.format", "ctformer-checkpoint-0", "ctformer-checkpoint-0");
  meta_fault("another signature", "ctformer.signature", "0000000000000000", "was written for another model");

  // -- the file cut short.
  const auto bytes = read_bytes(good);
  for (std::size_t cut : cut_points(bytes)) {
    const std::string p = at("cut" + std::to_string(cut) + ".safetensors");
    write_bytes(p, bytes, cut);
    faults.push_back({"cut at " + std::to_string(cut), p, {"truncated"}});
  }

  // -- another model, another optimizer, plain weights.
  {
    auto other = std::make_unique<trainer<decoder_lm<other_cfg>, adamw, warmup_cosine>>();
    faults.push_back({"another model", at("other_model.safetensors"), {"was written for another model"}});
    save_checkpoint(faults.back().path, *other);
    auto sgd_t = std::make_unique<trainer<model, sgd>>(sgd{.momentum = 0.9});
    train_steps(*sgd_t, 1, 3);
    faults.push_back({"another optimizer", at("sgd.safetensors"), {"holds sgd state"}});
    save_checkpoint(faults.back().path, *sgd_t);
    faults.push_back({"plain weights", at("weights.safetensors"), {"is not a ctformer checkpoint"}});
    save_weights(faults.back().path, src->weights());
  }

  for (const auto& f : faults) {
    INFO(f.what);
    const std::string msg = error_of([&] { load_checkpoint(f.path, *t); });
    CHECK_THAT(msg, Catch::Contains(f.path));
    for (const auto& name : f.names) CHECK_THAT(msg, Catch::Contains(name));
    CHECK(take(*t) == before);
  }

  // The caller's own check of `data` joins the transaction: its error names the field, and the
  // trainer is unchanged.
  const std::string msg = error_of([&] {
    load_checkpoint(good, *t, [](const json::value& d) { d.at("epoch").as_int(); });
  });
  CHECK_THAT(msg, Catch::Contains(good) && Catch::Contains("field 'data'") && Catch::Contains("\"epoch\""));
  CHECK(take(*t) == before);

  // The intact file loads every part: the snapshot does see a load.
  const checkpoint_state cs = load_checkpoint(good, *t);
  CHECK(cs.step == 2);
  CHECK(cs.seed == 4242);
  CHECK(cs.data.at("cursor").as_int() == 7);
  const snapshot after = take(*t);
  const snapshot want = take(*src);
  CHECK(after.weights == want.weights);
  CHECK(after.moments == want.moments);
  CHECK(after.step == 2);
  CHECK(after.seed == 4242);
  CHECK(after.grads == before.grads);  // not part of the checkpoint's load
  CHECK(!(after == before));
  fs::remove_all(dir);
}

TEST_CASE("rng_state_from_json refuses malformed states with ctformer::error", "[train][io]") {
  rng r(99);
  (void)r.normal();  // leaves a spare
  const json::value good = to_json(r.state());
  const auto parsed = rng_state_from_json(json::value::parse(good.dump()));
  CHECK(parsed.s == r.state().s);
  CHECK(parsed.has_spare == r.state().has_spare);
  const double spare = r.state().spare;
  CHECK(std::memcmp(&parsed.spare, &spare, sizeof(double)) == 0);

  const auto with = [&](const std::string& key, const json::value* v) {
    return json::value::parse(edit_state(good.dump(), key, v));
  };
  const auto words = [&](std::vector<std::string> w) {
    json::array a;
    for (auto& s : w) a.emplace_back(std::move(s));
    return json::value(std::move(a));
  };
  const std::string ok = "0123456789abcdef";
  const std::vector<std::pair<json::value, std::string>> bad = {
      {with("s", nullptr), "field 's'"},
      {with("has_spare", nullptr), "field 'has_spare'"},
      {with("spare", nullptr), "field 'spare'"},
      {[&] { const auto v = words({ok, ok, ok}); return with("s", &v); }(), "needs 4 words"},
      {[&] { const auto v = words({ok, ok, ok, "xyz"}); return with("s", &v); }(), "word 3 'xyz'"},
      {[&] { const auto v = words({ok, "-1", ok, ok}); return with("s", &v); }(), "word 1 '-1'"},
      {[&] { const auto v = words({ok, ok, "10000000000000000", ok}); return with("s", &v); }(), "word 2"},
      {[&] { const auto v = words({"", ok, ok, ok}); return with("s", &v); }(), "word 0"},
      {[&] { const auto v = words({"0x12", ok, ok, ok}); return with("s", &v); }(), "word 0"},
      {[&] { const json::value v = 3; return with("s", &v); }(), "field 's'"},
      {[&] { const json::value v = "yes"; return with("has_spare", &v); }(), "field 'has_spare'"},
      {[&] { const json::value v = "abc"; return with("spare", &v); }(), "field 'spare'"},
      {[&] { const json::value v = "1.0x"; return with("spare", &v); }(), "field 'spare'"},
      {[&] { const json::value v = 1.5; return with("spare", &v); }(), "field 'spare'"},
  };
  rng target(7);
  const auto before = target.state();
  for (const auto& item : bad) {
    const json::value& v = item.first;  // not a structured binding: Clang 14 cannot capture those
    const std::string& named = item.second;
    INFO(v.dump());
    const std::string msg = error_of([&] { target.set_state(rng_state_from_json(v, "worker state")); });
    CHECK_THAT(msg, Catch::Contains("worker state") && Catch::Contains(named));
    CHECK(target.state().s == before.s);
  }
}

TEST_CASE("fit's resume from a checkpoint with a malformed fit state changes nothing", "[train][io]") {
  const auto dir = testing::temp_path("fit_resume_transaction");
  fs::remove_all(dir);
  using M = decoder_lm<other_cfg>;
  auto fill = [](std::size_t i, token_batch<2, 8>& b) {
    for (std::size_t r = 0; r < 2; ++r)
      for (std::size_t s = 0; s < 8; ++s) {
        b.ids(r, s) = std::int32_t((i + r + s * 3) % 16);
        b.targets(r, s) = std::int32_t((i + r + s * 5 + 1) % 16);
        b.attention_mask(r, s) = 1;
        b.token_type(r, s) = 0;
      }
  };
  function_source<token_batch<2, 8>> train(4, fill), val(1, fill);
  fit_options o;
  o.max_steps = 4;
  o.eval_every = 2;
  o.checkpoint_dir = dir.string();
  o.checkpoint_every = 2;
  o.progress = progress_bar::style::quiet;
  auto first = std::make_unique<trainer<M, adamw>>();
  first->fit(train, &val, o);
  // The newest checkpoint, with its early-stopping best value unreadable.
  const auto latest = safetensors::file::read(latest_checkpoint(dir.string()));
  const std::string bad = (dir / "step-000000099.safetensors").string();
  rewrite(latest, bad, nullptr, [](const std::string& k, std::string& v) {
    if (k != "ctformer.state") return;
    json::value st = json::value::parse(v);
    for (auto& [name, d] : st.as_object())
      if (name == "data")
        for (auto& [key, e] : d.as_object())
          if (key == "early_stopping") e.set("best", "zz");
    v = st.dump();
  });
  REQUIRE(latest_checkpoint(dir.string()) == bad);

  auto t = std::make_unique<trainer<M, adamw>>();
  train_steps(*t, 1, 5);
  const auto bytes = [&] {
    std::vector<unsigned char> b;
    append_bytes(b, t->weights());
    t->state().visit([&](const char*, const auto& buf) { append_bytes(b, buf); });
    return b;
  };
  const auto before = bytes();
  const long step_before = t->steps_done();
  o.resume = true;
  o.max_steps = 8;
  const std::string msg = error_of([&] { t->fit(train, &val, o); });
  CHECK_THAT(msg, Catch::Contains(bad) && Catch::Contains("field 'data'") && Catch::Contains("'zz'"));
  CHECK(bytes() == before);
  CHECK(t->steps_done() == step_before);
  fs::remove_all(dir);
}
