// The contracts the library is written against, as C++20 concepts. Each one lists what a type
// must provide and what it must mean; the trainer, fit and the models require them, so a type
// that breaks a contract fails to compile at the call that needs it, naming the concept.
// A batch whose shape differs from the workspace's fails with a static_assert whose
// instantiation names both shapes: batch_dims<8, 16> against workspace_dims<32, 16>.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "base/run_mode.hpp"
#include "losses/cross_entropy.hpp"

namespace ctformer {

// ---- batch ---------------------------------------------------------------------------------
/// A fixed-shape batch (data/batch.hpp): `static constexpr std::size_t batch` (rows) and either
/// `seq` (one sequence per row) or `src_seq` and `tgt_seq` (encoder-decoder). Its tensors are
/// members of those sizes; a model reads them as they are and never resizes them.
template <class Bt>
concept shaped_batch = requires {
  { Bt::batch } -> std::convertible_to<std::size_t>;
} && (requires { { Bt::seq } -> std::convertible_to<std::size_t>; } ||
      requires {
        { Bt::src_seq } -> std::convertible_to<std::size_t>;
        { Bt::tgt_seq } -> std::convertible_to<std::size_t>;
      });

// ---- workspace -----------------------------------------------------------------------------
/// A model's activations for one batch shape (Model::workspace<B, S...>): the same `batch` and
/// `seq` (or `src_seq`, `tgt_seq`) constants as the batches it accepts.
template <class W>
concept shaped_workspace = shaped_batch<W>;

template <std::size_t... N>
struct batch_dims {};
template <std::size_t... N>
struct workspace_dims {};

namespace detail {
template <class X, template <std::size_t...> class Dims>
constexpr auto dims_of() {
  if constexpr (requires { X::seq; })
    return Dims<X::batch, X::seq>{};
  else
    return Dims<X::batch, X::src_seq, X::tgt_seq>{};
}
template <class BatchDims, class WorkspaceDims>
struct batch_fits_workspace;
template <std::size_t... Nb, std::size_t... Nw>
struct batch_fits_workspace<batch_dims<Nb...>, workspace_dims<Nw...>> {
  static constexpr bool value = sizeof...(Nb) == sizeof...(Nw) && ((Nb == Nw) && ...);
  static_assert(value,
                "ctformer: the batch's shape differs from the workspace's (the batch_dims and "
                "workspace_dims in this instantiation are the two shapes)");
};
}  // namespace detail

/// Compile-time check, at every entry point that takes a batch and a workspace.
template <class Batch, class Workspace>
constexpr bool check_batch_fits() {
  return detail::batch_fits_workspace<decltype(detail::dims_of<Batch, batch_dims>()),
                                      decltype(detail::dims_of<Workspace, workspace_dims>())>::value;
}

// ---- model ---------------------------------------------------------------------------------
/// A model is a type with static members only (models/decoder_lm.hpp, encoder.hpp, seq2seq.hpp):
///   T                         the scalar type (float for training, double for gradient checks)
///   params                    the weights; the gradients and the optimizer moments have this type
///   workspace<B, S...>        the activations for one batch shape
///   init(params&, seed)       seeded initialization by the config's scheme
///   param_count, signature    constexpr figures; signature identifies the type in checkpoints
///   describe()                the type in words
template <class M>
concept trainable_model = requires(typename M::params& p, std::uint64_t seed) {
  typename M::T;
  typename M::params;
  { M::param_count } -> std::convertible_to<std::size_t>;
  { M::signature } -> std::convertible_to<std::uint64_t>;
  { M::describe() } -> std::convertible_to<std::string>;
  M::init(p, seed);
};

/// A model that trains on Batch with workspace WS:
///   forward_loss(p, ws, batch, mode, smoothing) -> loss_value
///       the mean loss over the batch's targets, activations kept in ws for backward
///   backward(p, g, ws, batch, lv, mode, smoothing, loss_scale)
///       ADDS the gradient of loss_scale * (that mean loss) into g; ws is scratch afterwards
template <class M, class Batch, class WS>
concept trainable_on =
    trainable_model<M> && shaped_batch<Batch> && shaped_workspace<WS> &&
    requires(const typename M::params& p, typename M::params& g, WS& ws, const Batch& b, const run_mode& mode,
             typename M::T s, const loss_value& lv) {
      { M::forward_loss(p, ws, b, mode, s) } -> std::same_as<loss_value>;
      M::backward(p, g, ws, b, lv, mode, s, s);
    };

// ---- head ----------------------------------------------------------------------------------
/// An encoder's task head (models/heads.hpp), chosen by a tag (mlm, classify<N>, regress):
///   params, param_count, signature, describe()   as for a model
///   batch_type<B, S>, workspace<B, S>             what it reads and what it keeps
///   forward / loss / backward<B, S>               called by the encoder after its last block;
///                                                 backward ADDS into the head's gradients and
///                                                 into d(hidden)
template <class H>
concept task_head = requires {
  typename H::params;
  { H::param_count } -> std::convertible_to<std::size_t>;
  { H::signature } -> std::convertible_to<std::uint64_t>;
  { H::describe() } -> std::convertible_to<std::string>;
  typename H::template batch_type<1, 1>;
  typename H::template workspace<1, 1>;
};

// ---- optimizer -----------------------------------------------------------------------------
/// An optimizer over params P (optim/optimizers.hpp): hyper-parameters are runtime members
/// (`lr` at least), the per-tensor state is a type of its own made once by make_state, and
/// step(p, g, state, lr) applies one update with the scheduled learning rate and counts the step
/// in state.step. state_tensors says how many P-sized tensors the state holds (memory figures).
template <class O, class P>
concept optimizer_for = requires(O& o, P& p, const P& g, typename O::template state<P>& st, double lr) {
  { o.lr } -> std::convertible_to<double>;
  { O::state_tensors } -> std::convertible_to<std::size_t>;
  { o.make_state(p) } -> std::same_as<typename O::template state<P>>;
  o.step(p, g, st, lr);
  { st.step } -> std::convertible_to<long>;
};

// ---- schedule ------------------------------------------------------------------------------
/// A learning-rate schedule (schedules/schedules.hpp): a value called with the number of steps
/// done and the optimizer's own lr, returning the lr of the next step. Deterministic: the same
/// step gives the same lr, which exact resume relies on.
template <class S>
concept lr_schedule = std::copy_constructible<S> && requires(const S& s, long step, double base) {
  { s(step, base) } -> std::convertible_to<double>;
};

// ---- batch source --------------------------------------------------------------------------
/// What fit() trains and evaluates on (train/trainer.hpp's batch_source<Batch> is the abstract
/// base; any type with these members fits): size() batches per epoch, get(i, out) fills batch i
/// of the current epoch, start_epoch(e) may reshuffle. The same (epoch, index) gives the same
/// batch, so a run can resume exactly.
template <class S, class Batch>
concept batch_source_of = shaped_batch<Batch> && requires(S& s, std::size_t i, Batch& out) {
  { s.size() } -> std::convertible_to<std::size_t>;
  s.get(i, out);
  s.start_epoch(i);
};

}  // namespace ctformer
