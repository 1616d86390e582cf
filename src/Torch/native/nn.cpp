// Linear algebra, nn functions, autograd and optimizer steps.
#include "shim.h"

// ---------------------------------------------------------------- linear algebra and nn
ACT_EXPORT TH act_matmul(TH a, TH b) { ACT_T(at::matmul(T(a), T(b))) }
ACT_EXPORT TH act_mm(TH a, TH b) { ACT_T(at::mm(T(a), T(b))) }
ACT_EXPORT TH act_bmm(TH a, TH b) { ACT_T(at::bmm(T(a), T(b))) }
ACT_EXPORT TH act_linear(TH x, TH w, TH b) { ACT_T(at::linear(T(x), T(w), opt(b))) }
ACT_EXPORT TH act_layer_norm(TH x, const int64_t* shape, int32_t n, TH w, TH b, double eps) {
  ACT_T(at::layer_norm(T(x), dims(shape, n), opt(w), opt(b), eps))
}
ACT_EXPORT TH act_dropout(TH x, double p, int32_t train) { ACT_T(at::dropout(T(x), p, train != 0)) }
// reduction: 0 none, 1 mean, 2 sum (at::Reduction).
ACT_EXPORT TH act_cross_entropy(TH logits, TH target, int64_t reduction, int64_t ignore_index, double smoothing) {
  ACT_T(at::cross_entropy_loss(T(logits), T(target), c10::nullopt, reduction, ignore_index, smoothing))
}
ACT_EXPORT TH act_mse_loss(TH a, TH b, int64_t reduction) { ACT_T(at::mse_loss(T(a), T(b), reduction)) }

// softmax(q k^T / sqrt(E) + mask) v over the last two dims. A bool mask marks positions that take part.
static at::Tensor composed_sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const c10::optional<at::Tensor>& mask, double dropout_p, bool causal) {
  auto scores = at::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  const auto minus_inf = -std::numeric_limits<double>::infinity();
  if (causal) {
    auto keep = at::ones({q.size(-2), k.size(-2)}, q.options().dtype(at::kBool)).tril();
    scores = scores.masked_fill(keep.logical_not(), minus_inf);
  }
  if (mask.has_value()) {
    scores = mask->scalar_type() == at::kBool ? scores.masked_fill(mask->logical_not(), minus_inf) : scores + *mask;
  }
  auto attn = at::softmax(scores, -1);
  if (dropout_p > 0) attn = at::dropout(attn, dropout_p, true);
  return at::matmul(attn, v);
}
ACT_EXPORT TH act_sdpa(TH q, TH k, TH v, TH mask, double dropout_p, int32_t causal, int32_t allow_fused) {
  ACT_TRY(nullptr,
#ifdef ACT_HAS_FUSED_SDPA
          if (allow_fused) return wrap(at::scaled_dot_product_attention(T(q), T(k), T(v), opt(mask), dropout_p, causal != 0));
#endif
          return wrap(composed_sdpa(T(q), T(k), T(v), opt(mask), dropout_p, causal != 0));)
}

// ---------------------------------------------------------------- autograd
ACT_EXPORT int32_t act_set_requires_grad(TH t, int32_t on) { ACT_STATUS(T(t).requires_grad_(on != 0);) }
ACT_EXPORT int32_t act_backward(TH t, TH grad, int32_t retain_graph, int32_t create_graph) {
  ACT_STATUS(T(t).backward(grad ? T(grad) : at::Tensor(), c10::optional<bool>(retain_graph != 0), create_graph != 0);)
}
ACT_EXPORT TH act_grad(TH t) {
  g_has_error = false;
  ACT_TRY(nullptr, return wrap_optional(at::Tensor(T(t).grad()));)
}
ACT_EXPORT int32_t act_set_grad(TH t, TH grad) { ACT_STATUS(T(t).mutable_grad() = grad ? T(grad) : at::Tensor();) }
ACT_EXPORT int32_t act_retain_grad(TH t) { ACT_STATUS(T(t).retain_grad();) }
ACT_EXPORT TH act_detach(TH t) { ACT_T(T(t).detach()) }

// ---------------------------------------------------------------- optimizers (torch.optim semantics)
// AdamW step over n parameters sharing hyper-parameters; `step` is the 1-based step count.
ACT_EXPORT int32_t act_adamw_step(TH* params, TH* exp_avg, TH* exp_avg_sq, int32_t n, double lr, double beta1,
                                  double beta2, double eps, double weight_decay, int64_t step) {
  ACT_STATUS(at::NoGradGuard no_grad;
             const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
             const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(step));
             const double step_size = lr / bc1;
             const double bc2_sqrt = std::sqrt(bc2);
             for (int32_t k = 0; k < n; ++k) {
               at::Tensor& p = T(params[k]);
               const at::Tensor& g = p.grad();
               if (!g.defined()) continue;
               if (weight_decay != 0) p.mul_(1.0 - lr * weight_decay);
               T(exp_avg[k]).mul_(beta1).add_(g, 1.0 - beta1);
               T(exp_avg_sq[k]).mul_(beta2).addcmul_(g, g, 1.0 - beta2);
               auto denom = (T(exp_avg_sq[k]).sqrt() / bc2_sqrt).add_(eps);
               p.addcdiv_(T(exp_avg[k]), denom, -step_size);
             })
}
// SGD with optional momentum/nesterov; `first` marks the first step (buffers start as the gradient).
ACT_EXPORT int32_t act_sgd_step(TH* params, TH* momentum_buf, int32_t n, double lr, double momentum, double dampening,
                                double weight_decay, int32_t nesterov, int32_t first) {
  ACT_STATUS(at::NoGradGuard no_grad;
             for (int32_t k = 0; k < n; ++k) {
               at::Tensor& p = T(params[k]);
               if (!p.grad().defined()) continue;
               at::Tensor g = p.grad();
               if (weight_decay != 0) g = g.add(p, weight_decay);
               if (momentum != 0) {
                 at::Tensor& buf = T(momentum_buf[k]);
                 if (first) buf.copy_(g); else buf.mul_(momentum).add_(g, 1.0 - dampening);
                 g = nesterov ? g.add(buf, momentum) : buf;
               }
               p.add_(g, -lr);
             })
}
// torch.nn.utils.clip_grad_norm_: total 2-norm over all gradients; scales them when it exceeds max_norm.
ACT_EXPORT int32_t act_clip_grad_norm(TH* params, int32_t n, double max_norm, double* total_norm) {
  ACT_STATUS(at::NoGradGuard no_grad; std::vector<at::Tensor> norms;
             for (int32_t k = 0; k < n; ++k) {
               const at::Tensor& g = T(params[k]).grad();
               if (g.defined()) norms.push_back(at::norm(g.detach(), 2).to(at::kDouble).cpu());
             }
             if (norms.empty()) { *total_norm = 0; return 0; }
             double total = at::norm(at::stack(norms), 2).item<double>();
             *total_norm = total;
             double coef = max_norm / (total + 1e-6);
             if (coef < 1.0) {
               for (int32_t k = 0; k < n; ++k) {
                 at::Tensor g = T(params[k]).grad();
                 if (g.defined()) g.mul_(coef);
               }
             })
}
