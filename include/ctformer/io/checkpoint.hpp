// Training-state checkpoints: the weights, the optimizer's state tensors (and optionally the
// gradients) in native layout, plus JSON metadata with the step, seed, optimizer, the caller's
// data-loader position and RNG states, and the model's config with a compile-time signature of its
// type. Saving is atomic (temporary file, fsync, rename); loading validates every part before it
// writes any, and a checkpoint of another model type fails with both types spelled out.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "../error.hpp"
#include "../base/random.hpp"
#include "../tensor/visit.hpp"
#include "json.hpp"
#include "safetensors.hpp"
#include "weights.hpp"

namespace ctformer {

inline constexpr const char* checkpoint_format = "ctformer-checkpoint-1";

// What a checkpoint carries besides tensors. `data` is the caller's: loader position, its RNG
// states, early-stopping state... anything needed to continue exactly.
struct checkpoint_state {
  long step = 0;
  std::uint64_t seed = 0;
  json::value data;
};

// rng state <-> JSON (64-bit words as strings: JSON numbers hold only 53 bits exactly).
inline json::value to_json(const rng::state_type& st) {
  json::value v;
  json::array words;
  for (auto w : st.s) words.emplace_back(fmt::format("{:016x}", w));
  v.set("s", json::value(std::move(words)));
  v.set("has_spare", st.has_spare);
  v.set("spare", fmt::format("{:a}", st.spare));
  return v;
}
inline rng::state_type rng_state_from_json(const json::value& v) {
  rng::state_type st{};
  const auto& words = v.at("s").as_array();
  if (words.size() != 4) fail("checkpoint: an rng state needs 4 words, found {}", words.size());
  for (std::size_t i = 0; i < 4; ++i) st.s[i] = std::stoull(words[i].as_string(), nullptr, 16);
  st.has_spare = v.at("has_spare").as_bool();
  st.spare = std::strtod(v.at("spare").as_string().c_str(), nullptr);
  return st;
}

namespace detail {

template <class P>
void add_native(safetensors::writer& w, const P& p, const std::string& prefix) {
  save_options o;  // members set one by one: a designated initializer warns under -Wextra
  o.layout = weight_layout::native;
  o.prefix = prefix;
  add_weights(w, p, o);
}

template <class P>
void load_native(const safetensors::file& f, P& p, const std::string& prefix, bool validate_only) {
  load_options o;
  o.layout = weight_layout::native;
  o.prefixes = {prefix};
  o.allow_unexpected = true;  // the other parts of the checkpoint
  o.ignore_suffixes = {};
  o.validate_only = validate_only;
  load_weights(f, p, o);
}

inline std::string hex64(std::uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace detail

// Saves a trainer's full state. with_grads also stores the last step's gradients.
template <class Trainer>
void save_checkpoint(const std::string& path, Trainer& t, const json::value& data = {}, bool with_grads = false) {
  using Model = typename Trainer::model_type;
  safetensors::writer w;
  detail::add_native(w, t.weights(), "model.");
  if (with_grads) detail::add_native(w, t.grads(), "grad.");
  t.state().visit([&](const char* name, const auto& buf) { detail::add_native(w, buf, std::string("optim.") + name + "."); });
  json::value st;
  st.set("step", t.steps_done());
  st.set("seed", fmt::format("{}", t.options().seed));
  st.set("optimizer", std::string(Trainer::optimizer_type::name));
  st.set("data", data);
  w.set_metadata("format", "pt");
  w.set_metadata("ctformer.format", checkpoint_format);
  w.set_metadata("ctformer.model", Model::describe());
  w.set_metadata("ctformer.signature", detail::hex64(Model::signature));
  w.set_metadata("ctformer.state", st.dump());
  w.save(path);
}

// Loads a checkpoint into a trainer made for the same model type and optimizer. Throws
// ctformer::error for a corrupt or truncated file, another model type, another optimizer or any
// missing tensor; the trainer is unchanged unless everything fits.
template <class Trainer>
checkpoint_state load_checkpoint(const std::string& path, Trainer& t) {
  using Model = typename Trainer::model_type;
  const auto f = safetensors::file::read(path);
  const std::string* format = f.metadata("ctformer.format");
  if (!format) fail("'{}' is not a ctformer checkpoint (its metadata has no ctformer.format)", path);
  if (*format != checkpoint_format)
    fail("'{}' is a checkpoint of format '{}', this build reads '{}'", path, *format, checkpoint_format);
  const std::string* sig = f.metadata("ctformer.signature");
  const std::string* desc = f.metadata("ctformer.model");
  if (!sig || !desc) fail("checkpoint '{}' does not record its model type", path);
  if (*sig != detail::hex64(Model::signature))
    fail("checkpoint '{}' was written for another model:\n  checkpoint: {}\n  this model: {}", path, *desc,
         Model::describe());
  const std::string* state_text = f.metadata("ctformer.state");
  if (!state_text) fail("checkpoint '{}' has no training state", path);
  json::value st;
  try {
    st = json::value::parse(*state_text);
  } catch (const error& e) {
    fail("checkpoint '{}': corrupt training state: {}", path, e.what());
  }
  const std::string opt_name = st.at("optimizer").as_string();
  if (opt_name != Trainer::optimizer_type::name)
    fail("checkpoint '{}' holds {} state but this trainer uses {}", path, opt_name, Trainer::optimizer_type::name);
  // Validate every part, then load every part.
  for (bool validate : {true, false}) {
    detail::load_native(f, t.weights(), "model.", validate);
    t.state().visit([&](const char* name, auto& buf) {
      detail::load_native(f, buf, std::string("optim.") + name + ".", validate);
    });
  }
  checkpoint_state r;
  r.step = long(st.at("step").as_int());
  r.seed = std::stoull(st.at("seed").as_string());
  r.data = st.at("data");
  t.state().step = r.step;
  t.options().seed = r.seed;
  return r;
}

}  // namespace ctformer
