// Training-state checkpoints: the weights, the optimizer's state tensors (and optionally the
// gradients) in native layout, plus JSON metadata with the step, seed, optimizer, the caller's
// data-loader position and RNG states, and the model's config with a compile-time signature of its
// type. Saving is atomic (temporary file, fsync, rename); loading is a transaction (every tensor
// and state field is checked before anything is written), and a checkpoint of another model type
// fails with both types spelled out.
#pragma once

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../error.hpp"
#include "../base/random.hpp"
#include "../tensor/visit.hpp"
#include "json.hpp"
#include "safetensors.hpp"
#include "weights.hpp"

namespace ctformer {

inline constexpr const char* checkpoint_format = "ctformer-checkpoint-1";

/// What a checkpoint carries besides tensors. `data` is the caller's: loader position, its RNG
/// states, early-stopping state... anything needed to continue exactly.
struct checkpoint_state {
  long step = 0;  ///< optimizer steps done
  std::uint64_t seed = 0;  ///< the run's seed
  json::value data;  ///< the caller's resume state (any JSON)
};

/// rng state <-> JSON (64-bit words as strings: JSON numbers hold only 53 bits exactly).
inline json::value to_json(const rng::state_type& st) {
  json::value v;
  json::array words;
  for (auto w : st.s) words.emplace_back(fmt::format("{:016x}", w));
  v.set("s", json::value(std::move(words)));
  v.set("has_spare", st.has_spare);
  v.set("spare", fmt::format("{:a}", st.spare));
  return v;
}
namespace detail {

/// Whole-string unsigned parse in the given base: no sign, no prefix, no space, no overflow.
inline bool parse_u64(std::string_view s, int base, std::uint64_t& v) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

/// Runs one read of a JSON field and names the field (and file) in any ctformer::error it raises.
template <class F>
auto with_field(std::string_view where, std::string_view field, F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const error& e) {
    fail("{}: field '{}': {}", where, field, e.what());
  }
}

}  // namespace detail

/// Parses an rng state written by to_json. Throws ctformer::error, prefixed by `where`, naming
/// the field that is missing or malformed.
inline rng::state_type rng_state_from_json(const json::value& v, std::string_view where = "rng state") {
  rng::state_type st{};
  const auto& words = detail::with_field(where, "s", [&]() -> const json::array& { return v.at("s").as_array(); });
  if (words.size() != 4) fail("{}: field 's': an rng state needs 4 words, found {}", where, words.size());
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string& w = detail::with_field(where, "s", [&]() -> const std::string& { return words[i].as_string(); });
    if (!detail::parse_u64(w, 16, st.s[i]))
      fail("{}: field 's': word {} '{}' is not a 64-bit hexadecimal number", where, i, w);
  }
  st.has_spare = detail::with_field(where, "has_spare", [&] { return v.at("has_spare").as_bool(); });
  const std::string& spare = detail::with_field(where, "spare", [&]() -> const std::string& { return v.at("spare").as_string(); });
  char* end = nullptr;
  st.spare = spare.empty() || std::isspace(static_cast<unsigned char>(spare[0])) ? 0.0 : std::strtod(spare.c_str(), &end);
  if (end != spare.c_str() + spare.size()) fail("{}: field 'spare': '{}' is not a number", where, spare);
  return st;
}

namespace detail {

template <class P>
void add_native(safetensors::writer& w, const P& p, const std::string& prefix) {
  save_options o;  ///< members set one by one: a designated initializer warns under -Wextra
  o.layout = weight_layout::native;
  o.prefix = prefix;
  add_weights(w, p, o);
}

template <class P>
weights_plan plan_native(const safetensors::file& f, const P& p, const std::string& prefix) {
  load_options o;
  o.layout = weight_layout::native;
  o.prefixes = {prefix};
  o.allow_unexpected = true;  // the other parts of the checkpoint
  o.ignore_suffixes = {};
  return plan_weights(f, p, o);
}

template <class P>
void load_native(const safetensors::file& f, P& p, const std::string& prefix) {
  apply_weights(plan_native(f, p, prefix), p);
}

inline std::string hex64(std::uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace detail

/// Saves a trainer's full state. with_grads also stores the last step's gradients.
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

/// Loads a checkpoint into a trainer made for the same model type and optimizer. Throws
/// ctformer::error for a corrupt or truncated file, another model type, another optimizer, any
/// missing or mismatched tensor and any missing or malformed training-state field (naming the file
/// and the field). It is a transaction: everything is read and checked first, then copied in by
/// operations that cannot fail, so on an error the trainer is exactly as it was. check_data, when
/// given, is called on the caller's `data` before anything is written: a caller that parses its
/// own state there (into staging) makes its resume part of the same transaction.
/// The same from a file already read and parsed (path names it in messages).
template <class Trainer>
checkpoint_state load_checkpoint(const safetensors::file& f, const std::string& path, Trainer& t,
                                 const std::function<void(const json::value&)>& check_data = nullptr) {
  using Model = typename Trainer::model_type;
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
  const std::string where = fmt::format("checkpoint '{}': training state", path);
  if (!st.is_object()) fail("{} is not a JSON object", where);

  /// 1. Read and check everything into staging.
  const std::string& opt_name =
      detail::with_field(where, "optimizer", [&]() -> const std::string& { return st.at("optimizer").as_string(); });
  if (opt_name != Trainer::optimizer_type::name)
    fail("checkpoint '{}' holds {} state but this trainer uses {}", path, opt_name, Trainer::optimizer_type::name);
  checkpoint_state r;
  r.step = long(detail::with_field(where, "step", [&] { return st.at("step").as_int(); }));
  if (r.step < 0) fail("{}: field 'step': {} is negative", where, r.step);
  const std::string& seed = detail::with_field(where, "seed", [&]() -> const std::string& { return st.at("seed").as_string(); });
  if (!detail::parse_u64(seed, 10, r.seed))
    fail("{}: field 'seed': '{}' is not an unsigned 64-bit decimal number", where, seed);
  r.data = detail::with_field(where, "data", [&]() -> const json::value& { return st.at("data"); });
  if (check_data) detail::with_field(where, "data", [&] { check_data(r.data); });
  const detail::weights_plan model_plan = detail::plan_native(f, t.weights(), "model.");
  std::vector<detail::weights_plan> state_plans;
  t.state().visit([&](const char* name, const auto& buf) {
    state_plans.push_back(detail::plan_native(f, buf, std::string("optim.") + name + "."));
  });

  /// 2. Commit: copies and assignments only, none of which can throw.
  detail::apply_weights(model_plan, t.weights());
  std::size_t k = 0;
  t.state().visit([&](const char*, auto& buf) { detail::apply_weights(state_plans[k++], buf); });
  t.state().step = r.step;
  t.options().seed = r.seed;
  return r;
}

template <class Trainer>
checkpoint_state load_checkpoint(const std::string& path, Trainer& t,
                                 const std::function<void(const json::value&)>& check_data = nullptr) {
  return load_checkpoint(safetensors::file::read(path), path, t, check_data);
}

}  // namespace ctformer
