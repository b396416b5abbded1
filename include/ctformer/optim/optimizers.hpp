// Optimizers, chosen by type: sgd (momentum, Nesterov), adam (L2 decay), adamw (decoupled decay),
// rmsprop (momentum, centered), each with torch.optim's arithmetic. Hyper-parameters are runtime
// members with PyTorch's defaults. State tensors have the params' own type. Which tensors decay is a
// rule over roles (by default weights only: no biases, norms or embeddings), and parameter groups
// give tensors their own learning-rate scale or freeze them. A step allocates nothing.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../tensor/kernels/adamw.hpp"
#include "../tensor/visit.hpp"

namespace ctformer {

/// Which tensor roles get weight decay: by default weights only.
struct decay_rule {
  bool weights = true;      ///< decay weight matrices
  bool biases = false;      ///< decay biases
  bool norms = false;       ///< decay norm parameters
  bool embeddings = false;  ///< decay embeddings
  /// True if tensors of role r decay.
  bool decays(role r) const {
    switch (r) {
      case role::weight: return weights;
      case role::bias: return biases;
      case role::norm: return norms;
      case role::embedding: return embeddings;
    }
    return false;
  }
  /// Every role decays.
  static decay_rule all() { return {true, true, true, true}; }
};

/// Tensors selected by name prefix, layer range and role get their own lr scale, or are frozen.
struct param_group {
  std::vector<std::string> prefixes;  ///< name starts with one of these (empty: any name)
  int layers_below = -1;              ///< only tensors of blocks with index < this (-1: no condition)
  std::optional<ctformer::role> role; ///< only tensors of this role
  float lr_scale = 1.0f;  ///< multiplies the learning rate of the group's tensors
  bool frozen = false;  ///< the group's tensors are not updated

  /// True if the tensor described by info belongs to the group.
  bool matches(const tensor_info& info) const {
    if (role && info.role != *role) return false;
    if (layers_below >= 0 && !(info.layer >= 0 && info.layer < layers_below)) return false;
    if (prefixes.empty()) return true;
    char buf[256];
    const std::string_view name = info.format(buf);
    for (const auto& p : prefixes)
      if (name.substr(0, p.size()) == p) return true;
    return false;
  }
};

/// What the optimizer does to one tensor, decided once at set-up.
struct tensor_setting {
  float lr_scale = 1.0f;  ///< multiplies the learning rate
  bool decay = true;  ///< weight decay applies
  bool frozen = false;  ///< not updated
};

namespace detail {

/// The setting of each tensor, in visiting order, into out (tensor_count_v<P> entries).
template <class P>
void settings_into(std::span<tensor_setting> out, const P& params, const decay_rule& rule,
                   const std::vector<param_group>& groups) {
  std::size_t k = 0;
  for_each_tensor(params, [&](const tensor_info& info, const auto&) {
    tensor_setting t;
    t.decay = rule.decays(info.role);
    for (const auto& g : groups)
      if (g.matches(info)) {
        t.lr_scale = g.lr_scale;
        t.frozen = g.frozen;
        break;
      }
    out[k++] = t;
  });
}

template <class P>
std::vector<tensor_setting> settings_for(const P& params, const decay_rule& rule,
                                         const std::vector<param_group>& groups) {
  std::vector<tensor_setting> s(tensor_count_v<P>);
  settings_into(std::span<tensor_setting>(s), params, rule, groups);
  return s;
}

/// A state tensor held by pointer (make_state, on the heap) or inline (fixed_state).
template <class X>
constexpr auto& state_tensor(X& x) {
  if constexpr (requires { x.get(); *x; })
    return *x;
  else
    return x;
}

template <class P>
void zero_tensors(P& p) {
  for_each_tensor(p, [](const tensor_info&, auto& t) { std::memset(t.data(), 0, t.size() * sizeof(*t.data())); });
}

template <class P>
std::unique_ptr<P> zeros_like() {
  auto p = std::make_unique<P>();
  zero_tensors(*p);
  return p;
}

}  // namespace detail

/// The parts of optimizer state every optimizer has: the step count and per-tensor settings.
struct optimizer_common {
  decay_rule decay{};  ///< which roles get weight decay
  std::vector<param_group> groups{};  ///< first matching group decides a tensor's setting
};

// ---- SGD ------------------------------------------------------------------------------------
/// g += wd p (if decaying); buf = momentum buf + (1 - dampening) g (buf = g on the first step);
/// g = nesterov ? g + momentum buf : buf; p -= lr g.
struct sgd : optimizer_common {
  double lr = 1e-2;           ///< learning rate
  double momentum = 0.0;      ///< momentum factor (0: none)
  double dampening = 0.0;     ///< dampening of the momentum
  double weight_decay = 0.0;  ///< coupled L2 decay added to the gradient
  bool nesterov = false;  ///< Nesterov momentum (needs momentum > 0 and no dampening)
  static constexpr const char* name = "sgd";  ///< name in checkpoints
  static constexpr int state_tensors = 1;  ///< state tensors per parameter tensor

  /// SGD state for params of type P.
  template <class P>
  struct state {
    std::unique_ptr<P> buf;  ///< momentum buffers (only with momentum)
    std::vector<tensor_setting> settings;  ///< per-tensor settings, in visiting order
    long step = 0;  ///< steps taken
    /// The state tensors by name, for checkpoints.
    template <class F>
    void visit(F&& f) {
      if (buf) f("momentum", *buf);
    }
  };
  /// Fresh state for params (momentum buffers only with momentum).
  template <class P>
  state<P> make_state(const P& params) const {
    if (nesterov && (momentum <= 0 || dampening != 0)) fail("sgd: Nesterov momentum needs momentum > 0 and no dampening");
    state<P> s;
    if (momentum != 0) s.buf = detail::zeros_like<P>();
    s.settings = detail::settings_for(params, decay, groups);
    return s;
  }
  /// One update of params with grads at learning rate lr_now.
  template <class P>
  void step(P& params, const P& grads, state<P>& st, double lr_now) const {
    ++st.step;
    std::size_t k = 0;
    auto update = [&](auto& w, const auto& dw, auto* buf) {
      const tensor_setting& set = st.settings[k++];
      if (set.frozen) return;
      using T = std::remove_cvref_t<decltype(*w.data())>;
      const T lr = T(lr_now * set.lr_scale), wd = set.decay ? T(weight_decay) : T(0);
      const T mu = T(momentum), damp1 = T(1.0 - dampening);
      T* p = w.data();
      const T* g = dw.data();
      for (std::size_t i = 0; i < w.size(); ++i) {
        T gi = g[i] + wd * p[i];
        if (buf) {
          T& b = buf[i];
          b = st.step == 1 ? gi : mu * b + damp1 * gi;
          gi = nesterov ? gi + mu * b : b;
        }
        p[i] -= lr * gi;
      }
    };
    if (st.buf)
      for_each_tensor(params, grads, *st.buf, [&](const tensor_info&, auto& w, const auto& dw, auto& b) { update(w, dw, b.data()); });
    else
      for_each_tensor(params, grads, [&](const tensor_info&, auto& w, const auto& dw) {
        update(w, dw, static_cast<std::remove_cvref_t<decltype(*w.data())>*>(nullptr));
      });
  }
};

// ---- Adam and AdamW ---------------------------------------------------------------------------
/// Adam (coupled L2 decay) or AdamW (Decoupled, decoupled weight decay), as torch.optim.
template <bool Decoupled>
struct adam_family : optimizer_common {
  double lr = 1e-3;      ///< learning rate (PyTorch's default)
  double beta1 = 0.9;    ///< decay rate of the first moment
  double beta2 = 0.999;  ///< decay rate of the second moment
  double eps = 1e-8;     ///< added to sqrt(v-hat) in the denominator
  double weight_decay = Decoupled ? 1e-2 : 0.0;  ///< 0.01 for AdamW, 0 for Adam
  static constexpr const char* name = Decoupled ? "adamw" : "adam";  ///< "adamw" or "adam"
  static constexpr int state_tensors = 2;  ///< state tensors per parameter tensor

  /// Adam state for params of type P, on the heap.
  template <class P>
  struct state {
    /// First moments m, second moments v (zero at the start).
    std::unique_ptr<P> m, v;  ///< first and second moments
    std::vector<tensor_setting> settings;  ///< per-tensor settings, in visiting order
    long step = 0;  ///< steps taken
    /// The state tensors by name ("m", "v"), for checkpoints.
    template <class F>
    void visit(F&& f) {
      f("m", *m);
      f("v", *v);
    }
  };
  /// Fresh state for params: zero moments.
  template <class P>
  state<P> make_state(const P& params) const {
    state<P> s;
    s.m = detail::zeros_like<P>();
    s.v = detail::zeros_like<P>();
    s.settings = detail::settings_for(params, decay, groups);
    return s;
  }
  /// The same state with the moments inline and the settings in a fixed array, for static storage
  /// (training on a microcontroller: nothing on the heap; its size is a compile-time figure).
  /// Parameter groups given by name prefixes still work; make_state fills it in place.
  template <class P>
  struct fixed_state {
    /// First moments m, second moments v (zero at the start).
    P m, v;  ///< first and second moments
    std::array<tensor_setting, tensor_count_v<P>> settings{};  ///< per-tensor settings, in visiting order
    long step = 0;  ///< steps taken
    /// The state tensors by name ("m", "v"), for checkpoints.
    template <class F>
    void visit(F&& f) {
      f("m", m);
      f("v", v);
    }
  };
  /// Fills a fixed_state in place: zero moments, step 0, per-tensor settings.
  template <class P>
  void make_state(const P& params, fixed_state<P>& s) const {
    detail::zero_tensors(s.m);
    detail::zero_tensors(s.v);
    s.step = 0;
    detail::settings_into(std::span<tensor_setting>(s.settings), params, decay, groups);
  }
  /// One update of params with grads at learning rate lr_now.
  template <class P, class State>
  void step(P& params, const P& grads, State& st, double lr_now) const {
    ++st.step;
    std::size_t k = 0;
    for_each_tensor(params, grads, detail::state_tensor(st.m), detail::state_tensor(st.v),
                    [&](const tensor_info&, auto& w, const auto& dw, auto& m, auto& v) {
      const tensor_setting& set = st.settings[k++];
      if (set.frozen) return;
      using T = std::remove_cvref_t<decltype(*w.data())>;
      kernels::adamw_step<T> s;
      s.lr = lr_now * set.lr_scale;
      s.beta1 = beta1;
      s.beta2 = beta2;
      s.eps = eps;
      s.step = st.step;
      const double wd = set.decay ? weight_decay : 0.0;
      s.weight_decay = Decoupled ? wd : 0.0;
      s.l2 = Decoupled ? 0.0 : wd;
      kernels::adamw_update(w.data(), dw.data(), m.data(), v.data(), w.size(), s);
    });
  }
};
using adam = adam_family<false>;
using adamw = adam_family<true>;

// ---- RMSprop ----------------------------------------------------------------------------------
/// g += wd p; sq = alpha sq + (1 - alpha) g^2; centered: ga = alpha ga + (1 - alpha) g and
/// avg = sqrt(sq - ga^2) + eps, else avg = sqrt(sq) + eps; with momentum buf = mu buf + g / avg and
/// p -= lr buf, else p -= lr g / avg.
struct rmsprop : optimizer_common {
  double lr = 1e-2;           ///< learning rate
  double alpha = 0.99;        ///< smoothing constant of the square average
  double eps = 1e-8;          ///< added to the denominator
  double weight_decay = 0.0;  ///< coupled L2 decay added to the gradient
  double momentum = 0.0;      ///< momentum factor (0: none)
  bool centered = false;  ///< subtract the squared mean of the gradient (ga) in the denominator
  static constexpr const char* name = "rmsprop";  ///< name in checkpoints
  static constexpr int state_tensors = 3;  ///< state tensors per parameter tensor

  /// RMSprop state for params of type P.
  template <class P>
  struct state {
    std::unique_ptr<P> sq;    ///< square average
    std::unique_ptr<P> buf;   ///< momentum buffer, used only with momentum
    std::unique_ptr<P> gavg;  ///< gradient average, used only when centered
    std::vector<tensor_setting> settings;  ///< per-tensor settings, in visiting order
    long step = 0;  ///< steps taken
    /// The state tensors by name, for checkpoints.
    template <class F>
    void visit(F&& f) {
      f("square_avg", *sq);
      f("momentum", *buf);
      f("grad_avg", *gavg);
    }
  };
  /// Fresh state for params: zero tensors.
  template <class P>
  state<P> make_state(const P& params) const {
    state<P> s;
    s.sq = detail::zeros_like<P>();
    s.buf = detail::zeros_like<P>();   // unused without momentum, kept so the visit is uniform
    s.gavg = detail::zeros_like<P>();  // unused unless centered
    s.settings = detail::settings_for(params, decay, groups);
    return s;
  }
  /// One update of params with grads at learning rate lr_now.
  template <class P>
  void step(P& params, const P& grads, state<P>& st, double lr_now) const {
    ++st.step;
    std::size_t k = 0;
    for_each_tensor(params, grads, *st.sq, *st.buf, *st.gavg,
                    [&](const tensor_info&, auto& w, const auto& dw, auto& sq, auto& buf, auto& ga) {
      const tensor_setting& set = st.settings[k++];
      if (set.frozen) return;
      using T = std::remove_cvref_t<decltype(*w.data())>;
      const T lr = T(lr_now * set.lr_scale), wd = set.decay ? T(weight_decay) : T(0);
      const T a = T(alpha), a1 = T(1.0 - alpha), e = T(eps), mu = T(momentum);
      T* p = w.data();
      const T* g = dw.data();
      for (std::size_t i = 0; i < w.size(); ++i) {
        const T gi = g[i] + wd * p[i];
        T& s = sq.data()[i];
        s = a * s + a1 * gi * gi;
        T avg;
        if (centered) {
          T& gm = ga.data()[i];
          gm = a * gm + a1 * gi;
          avg = std::sqrt(s - gm * gm) + e;
        } else {
          avg = std::sqrt(s) + e;
        }
        if (momentum > 0) {
          T& b = buf.data()[i];
          b = mu * b + gi / avg;
          p[i] -= lr * b;
        } else {
          p[i] -= lr * (gi / avg);
        }
      }
    });
  }
};

}  // namespace ctformer
