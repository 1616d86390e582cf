// AlignCluster.Torch native shim: a flat C ABI over libtorch (ATen + autograd) for P/Invoke.
//
// Conventions (mirrored in src/Torch/Native/*.cs):
//  - A tensor handle is a heap-allocated at::Tensor* owned by the C# side (act_free releases it).
//  - No C++ exception crosses the ABI: every export runs inside ACT_TRY. On failure the message
//    (c10::Error::what_without_backtrace) is stored in a thread-local and the export returns its
//    failure value: nullptr for handles, -1 for status codes. act_last_error() reads the message.
//  - A function that may legitimately return "no tensor" (act_grad) clears the error first, so the
//    caller distinguishes "undefined" (nullptr, no error) from failure (nullptr, error set).
//  - dtype codes are c10::ScalarType values; device type codes are c10::DeviceType values.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif
#ifndef TORCH_VERSION
#define TORCH_VERSION "unknown"
#endif

#define ACT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

thread_local std::string g_error;
thread_local bool g_has_error = false;

void set_error(const char* message) {
  g_error = message ? message : "unknown error";
  g_has_error = true;
}

using TH = at::Tensor*;

inline at::Tensor& T(TH h) { return *h; }
inline TH wrap(at::Tensor&& t) { return new at::Tensor(std::move(t)); }
inline TH wrap_optional(at::Tensor&& t) { return t.defined() ? new at::Tensor(std::move(t)) : nullptr; }
inline c10::optional<at::Tensor> opt(TH h) { return h ? c10::optional<at::Tensor>(*h) : c10::nullopt; }
inline at::IntArrayRef dims(const int64_t* p, int32_t n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

// Blittable scalar: kind 0 = double, 1 = int64, 2 = bool.
struct ActScalar {
  double d;
  int64_t i;
  int32_t kind;
};
inline at::Scalar S(ActScalar s) {
  switch (s.kind) {
    case 1: return at::Scalar(s.i);
    case 2: return at::Scalar(s.i != 0);
    default: return at::Scalar(s.d);
  }
}
// A scalar as a 0-dim "wrapped number" tensor, so type promotion matches Python's `2.0 - t`.
inline at::Tensor scalar_tensor(ActScalar s, const at::Tensor& like) {
  auto t = at::scalar_tensor(S(s), at::TensorOptions().device(like.device()).dtype(
      s.kind == 0 ? at::kDouble : (s.kind == 1 ? at::kLong : at::kBool)));
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

inline at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index, int32_t requires_grad) {
  return at::TensorOptions()
      .dtype(static_cast<at::ScalarType>(dtype))
      .device(at::Device(static_cast<c10::DeviceType>(device_type), static_cast<c10::DeviceIndex>(device_index)))
      .requires_grad(requires_grad != 0);
}
inline c10::optional<at::Generator> gen(void* g) {
  return g ? c10::optional<at::Generator>(*static_cast<at::Generator*>(g)) : c10::nullopt;
}

TH* to_handle_array(std::vector<at::Tensor>&& ts, int32_t* count) {
  auto out = static_cast<TH*>(std::malloc(sizeof(TH) * (ts.empty() ? 1 : ts.size())));
  for (size_t k = 0; k < ts.size(); ++k) out[k] = new at::Tensor(std::move(ts[k]));
  *count = static_cast<int32_t>(ts.size());
  return out;
}
std::vector<at::Tensor> from_handles(TH* hs, int32_t n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int32_t k = 0; k < n; ++k) v.push_back(*hs[k]);
  return v;
}

}  // namespace

#define ACT_TRY(fail, ...)                                  \
  try {                                                     \
    __VA_ARGS__                                             \
  } catch (const c10::Error& e) {                           \
    set_error(e.what_without_backtrace());                  \
    return fail;                                            \
  } catch (const std::exception& e) {                       \
    set_error(e.what());                                    \
    return fail;                                            \
  } catch (...) {                                           \
    set_error("unknown C++ exception in aligncluster_torch"); \
    return fail;                                            \
  }
#define ACT_T(expr) ACT_TRY(nullptr, return wrap(expr);)
#define ACT_STATUS(...) ACT_TRY(-1, __VA_ARGS__ return 0;)

// ---------------------------------------------------------------- errors, handles, runtime
ACT_EXPORT const char* act_last_error() { return g_has_error ? g_error.c_str() : nullptr; }
ACT_EXPORT void act_clear_error() { g_has_error = false; g_error.clear(); }
ACT_EXPORT void act_free(TH t) { delete t; }
ACT_EXPORT void act_free_buffer(void* p) { std::free(p); }
ACT_EXPORT const char* act_version() { return TORCH_VERSION; }
ACT_EXPORT int32_t act_has_fused_sdpa() {
#ifdef ACT_HAS_FUSED_SDPA
  return 1;
#else
  return 0;
#endif
}
ACT_EXPORT int32_t act_set_num_threads(int32_t n) { ACT_STATUS(at::set_num_threads(n);) }
ACT_EXPORT int32_t act_get_num_threads() { return at::get_num_threads(); }
ACT_EXPORT int32_t act_cuda_device_count() {
  ACT_TRY(0, return at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;)
}
ACT_EXPORT int32_t act_manual_seed(uint64_t seed) { ACT_STATUS(at::manual_seed(seed);) }
ACT_EXPORT void* act_generator_new(uint64_t seed) {
  ACT_TRY(nullptr, return new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed));)
}
ACT_EXPORT void act_generator_free(void* g) { delete static_cast<at::Generator*>(g); }
ACT_EXPORT int32_t act_generator_set_seed(void* g, uint64_t seed) {
  ACT_STATUS(auto& gg = *static_cast<at::Generator*>(g); std::lock_guard<std::mutex> lock(gg.mutex());
             gg.set_current_seed(seed);)
}
ACT_EXPORT int32_t act_grad_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }
ACT_EXPORT void act_set_grad_enabled(int32_t on) { c10::GradMode::set_enabled(on != 0); }

// ---------------------------------------------------------------- metadata
ACT_EXPORT int32_t act_dim(TH t) { return static_cast<int32_t>(T(t).dim()); }
ACT_EXPORT int64_t act_numel(TH t) { return T(t).numel(); }
ACT_EXPORT int32_t act_shape(TH t, int64_t* out, int32_t cap) {
  auto s = T(t).sizes();
  for (size_t k = 0; k < s.size() && static_cast<int32_t>(k) < cap; ++k) out[k] = s[k];
  return static_cast<int32_t>(s.size());
}
ACT_EXPORT int64_t act_size(TH t, int32_t dim) { ACT_TRY(-1, return T(t).size(dim);) }
ACT_EXPORT int32_t act_dtype(TH t) { return static_cast<int32_t>(T(t).scalar_type()); }
ACT_EXPORT int32_t act_device_type(TH t) { return static_cast<int32_t>(T(t).device().type()); }
ACT_EXPORT int32_t act_device_index(TH t) { return T(t).device().index(); }
ACT_EXPORT int32_t act_requires_grad(TH t) { return T(t).requires_grad() ? 1 : 0; }
ACT_EXPORT int32_t act_is_leaf(TH t) { return T(t).is_leaf() ? 1 : 0; }
ACT_EXPORT int32_t act_is_contiguous(TH t) { return T(t).is_contiguous() ? 1 : 0; }
ACT_EXPORT int64_t act_element_size(TH t) { return static_cast<int64_t>(T(t).element_size()); }
ACT_EXPORT void* act_data_ptr(TH t) { ACT_TRY(nullptr, return T(t).data_ptr();) }
ACT_EXPORT char* act_to_string(TH t) {
  ACT_TRY(nullptr, std::ostringstream os; os << T(t); auto s = os.str();
          auto out = static_cast<char*>(std::malloc(s.size() + 1)); std::memcpy(out, s.c_str(), s.size() + 1);
          return out;)
}

// ---------------------------------------------------------------- creation
ACT_EXPORT TH act_empty(const int64_t* shape, int32_t n, int32_t dt, int32_t dev, int32_t idx, int32_t rg) {
  ACT_T(at::empty(dims(shape, n), options(dt, dev, idx, rg)))
}
ACT_EXPORT TH act_full(const int64_t* shape, int32_t n, ActScalar v, int32_t dt, int32_t dev, int32_t idx, int32_t rg) {
  ACT_T(at::full(dims(shape, n), S(v), options(dt, dev, idx, rg)))
}
ACT_EXPORT TH act_arange(ActScalar start, ActScalar end, ActScalar step, int32_t dt, int32_t dev, int32_t idx, int32_t rg) {
  ACT_T(at::arange(S(start), S(end), S(step), options(dt, dev, idx, rg)))
}
// kind: 0 randn, 1 rand
ACT_EXPORT TH act_random(int32_t kind, const int64_t* shape, int32_t n, void* g, int32_t dt, int32_t dev, int32_t idx, int32_t rg) {
  ACT_TRY(nullptr,
          auto o = options(dt, dev, idx, 0);
          auto t = kind == 0 ? at::randn(dims(shape, n), gen(g), o) : at::rand(dims(shape, n), gen(g), o);
          if (rg) t.requires_grad_(true);
          return wrap(std::move(t));)
}
ACT_EXPORT TH act_randint(int64_t low, int64_t high, const int64_t* shape, int32_t n, void* g, int32_t dt, int32_t dev, int32_t idx) {
  ACT_T(at::randint(low, high, dims(shape, n), gen(g), options(dt, dev, idx, 0)))
}
// kind: 0 zeros_like, 1 ones_like, 2 empty_like, 3 randn_like, 4 rand_like
ACT_EXPORT TH act_like(int32_t kind, TH t) {
  ACT_TRY(nullptr, switch (kind) {
    case 0: return wrap(at::zeros_like(T(t)));
    case 1: return wrap(at::ones_like(T(t)));
    case 2: return wrap(at::empty_like(T(t)));
    case 3: return wrap(at::randn_like(T(t)));
    case 4: return wrap(at::rand_like(T(t)));
    default: throw std::invalid_argument("act_like: unknown kind");
  })
}
ACT_EXPORT TH act_full_like(TH t, ActScalar v) { ACT_T(at::full_like(T(t), S(v))) }
// Copies nbytes of raw little-endian element data into a new contiguous CPU tensor.
ACT_EXPORT TH act_from_bytes(const void* data, int64_t nbytes, const int64_t* shape, int32_t n, int32_t dt) {
  ACT_TRY(nullptr,
          auto t = at::empty(dims(shape, n), at::TensorOptions().dtype(static_cast<at::ScalarType>(dt)));
          int64_t need = t.numel() * static_cast<int64_t>(t.element_size());
          TORCH_CHECK(need == nbytes, "byte count ", nbytes, " does not match shape ", t.sizes(), " of dtype ",
                      t.scalar_type(), " (needs ", need, " bytes)");
          if (nbytes > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(nbytes));
          return wrap(std::move(t));)
}
// Copies the elements (row-major, on CPU) into dst; nbytes must equal numel * element_size.
ACT_EXPORT int32_t act_copy_to_bytes(TH t, void* dst, int64_t nbytes) {
  ACT_STATUS(auto c = T(t).detach().to(at::kCPU).contiguous();
             int64_t have = c.numel() * static_cast<int64_t>(c.element_size());
             TORCH_CHECK(have == nbytes, "destination holds ", nbytes, " bytes but the tensor has ", have);
             if (nbytes > 0) std::memcpy(dst, c.data_ptr(), static_cast<size_t>(nbytes));)
}
ACT_EXPORT int32_t act_item_double(TH t, double* out) { ACT_STATUS(*out = T(t).item().toDouble();) }
ACT_EXPORT int32_t act_item_long(TH t, int64_t* out) { ACT_STATUS(*out = T(t).item().toLong();) }

// ---------------------------------------------------------------- elementwise
enum Unary {
  U_NEG, U_EXP, U_LOG, U_LOG1P, U_SIGMOID, U_LOGSIGMOID, U_TANH, U_RELU, U_SILU, U_GELU, U_GELU_TANH,
  U_ABS, U_SQRT, U_RSQRT, U_SQUARE, U_SIN, U_COS, U_RECIPROCAL, U_SIGN, U_LOGICAL_NOT, U_EXPM1, U_FLOOR,
  U_CEIL, U_ISNAN, U_ROUND, U_ERF, U_ISFINITE
};
ACT_EXPORT TH act_unary(int32_t op, TH h) {
  ACT_TRY(nullptr, const at::Tensor& x = T(h); switch (op) {
    case U_NEG: return wrap(at::neg(x));
    case U_EXP: return wrap(at::exp(x));
    case U_LOG: return wrap(at::log(x));
    case U_LOG1P: return wrap(at::log1p(x));
    case U_SIGMOID: return wrap(at::sigmoid(x));
    case U_LOGSIGMOID: return wrap(at::log_sigmoid(x));
    case U_TANH: return wrap(at::tanh(x));
    case U_RELU: return wrap(at::relu(x));
    case U_SILU: return wrap(at::silu(x));
    case U_GELU: return wrap(at::gelu(x, "none"));
    case U_GELU_TANH: return wrap(at::gelu(x, "tanh"));
    case U_ABS: return wrap(at::abs(x));
    case U_SQRT: return wrap(at::sqrt(x));
    case U_RSQRT: return wrap(at::rsqrt(x));
    case U_SQUARE: return wrap(at::square(x));
    case U_SIN: return wrap(at::sin(x));
    case U_COS: return wrap(at::cos(x));
    case U_RECIPROCAL: return wrap(at::reciprocal(x));
    case U_SIGN: return wrap(at::sign(x));
    case U_LOGICAL_NOT: return wrap(at::logical_not(x));
    case U_EXPM1: return wrap(at::expm1(x));
    case U_FLOOR: return wrap(at::floor(x));
    case U_CEIL: return wrap(at::ceil(x));
    case U_ISNAN: return wrap(at::isnan(x));
    case U_ROUND: return wrap(at::round(x));
    case U_ERF: return wrap(at::erf(x));
    case U_ISFINITE: return wrap(at::isfinite(x));
    default: throw std::invalid_argument("act_unary: unknown op");
  })
}
ACT_EXPORT TH act_softplus(TH x, double beta, double threshold) { ACT_T(at::softplus(T(x), beta, threshold)) }

enum Binary {
  B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
  B_LOGICAL_AND, B_LOGICAL_OR, B_REMAINDER, B_FLOOR_DIVIDE
};
static at::Tensor binary(int32_t op, const at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case B_ADD: return at::add(a, b);
    case B_SUB: return at::sub(a, b);
    case B_MUL: return at::mul(a, b);
    case B_DIV: return at::div(a, b);
    case B_POW: return at::pow(a, b);
    case B_MAXIMUM: return at::maximum(a, b);
    case B_MINIMUM: return at::minimum(a, b);
    case B_EQ: return at::eq(a, b);
    case B_NE: return at::ne(a, b);
    case B_LT: return at::lt(a, b);
    case B_LE: return at::le(a, b);
    case B_GT: return at::gt(a, b);
    case B_GE: return at::ge(a, b);
    case B_LOGICAL_AND: return at::logical_and(a, b);
    case B_LOGICAL_OR: return at::logical_or(a, b);
    case B_REMAINDER: return at::remainder(a, b);
    case B_FLOOR_DIVIDE: return at::floor_divide(a, b);
    default: throw std::invalid_argument("binary: unknown op");
  }
}
ACT_EXPORT TH act_binary(int32_t op, TH a, TH b) { ACT_T(binary(op, T(a), T(b))) }
ACT_EXPORT TH act_binary_scalar(int32_t op, TH a, ActScalar s) {
  ACT_TRY(nullptr, const at::Tensor& x = T(a); switch (op) {
    case B_ADD: return wrap(at::add(x, S(s)));
    case B_SUB: return wrap(at::sub(x, S(s)));
    case B_MUL: return wrap(at::mul(x, S(s)));
    case B_DIV: return wrap(at::div(x, S(s)));
    case B_POW: return wrap(at::pow(x, S(s)));
    case B_EQ: return wrap(at::eq(x, S(s)));
    case B_NE: return wrap(at::ne(x, S(s)));
    case B_LT: return wrap(at::lt(x, S(s)));
    case B_LE: return wrap(at::le(x, S(s)));
    case B_GT: return wrap(at::gt(x, S(s)));
    case B_GE: return wrap(at::ge(x, S(s)));
    default: return wrap(binary(op, x, scalar_tensor(s, x)));
  })
}
// scalar (op) tensor, e.g. 1 - x, 2 / x.
ACT_EXPORT TH act_scalar_binary(int32_t op, ActScalar s, TH b) {
  ACT_TRY(nullptr, const at::Tensor& x = T(b);
          if (op == B_SUB) return wrap(at::rsub(x, S(s)));
          return wrap(binary(op, scalar_tensor(s, x), x));)
}
// In place: a (op)= b. Only add/sub/mul/div.
ACT_EXPORT int32_t act_binary_(int32_t op, TH a, TH b) {
  ACT_STATUS(switch (op) {
    case B_ADD: T(a).add_(T(b)); break;
    case B_SUB: T(a).sub_(T(b)); break;
    case B_MUL: T(a).mul_(T(b)); break;
    case B_DIV: T(a).div_(T(b)); break;
    default: throw std::invalid_argument("act_binary_: only add/sub/mul/div are in place");
  })
}
ACT_EXPORT int32_t act_binary_scalar_(int32_t op, TH a, ActScalar s) {
  ACT_STATUS(switch (op) {
    case B_ADD: T(a).add_(S(s)); break;
    case B_SUB: T(a).sub_(S(s)); break;
    case B_MUL: T(a).mul_(S(s)); break;
    case B_DIV: T(a).div_(S(s)); break;
    default: throw std::invalid_argument("act_binary_scalar_: only add/sub/mul/div are in place");
  })
}
ACT_EXPORT TH act_clamp(TH x, ActScalar lo, int32_t has_lo, ActScalar hi, int32_t has_hi) {
  ACT_T(at::clamp(T(x), has_lo ? c10::optional<at::Scalar>(S(lo)) : c10::nullopt,
                  has_hi ? c10::optional<at::Scalar>(S(hi)) : c10::nullopt))
}
ACT_EXPORT TH act_where(TH cond, TH a, TH b) { ACT_T(at::where(T(cond), T(a), T(b))) }
ACT_EXPORT TH act_where_scalar(TH cond, TH a, ActScalar b) { ACT_T(at::where(T(cond), T(a), S(b))) }
ACT_EXPORT TH act_masked_fill(TH x, TH mask, ActScalar v) { ACT_T(at::masked_fill(T(x), T(mask), S(v))) }
ACT_EXPORT int32_t act_allclose(TH a, TH b, double rtol, double atol) {
  ACT_TRY(-1, return at::allclose(T(a), T(b), rtol, atol) ? 1 : 0;)
}
ACT_EXPORT int32_t act_equal(TH a, TH b) { ACT_TRY(-1, return at::equal(T(a), T(b)) ? 1 : 0;) }

// ---------------------------------------------------------------- in-place state changes
ACT_EXPORT int32_t act_copy_(TH dst, TH src) { ACT_STATUS(T(dst).copy_(T(src));) }
ACT_EXPORT int32_t act_fill_(TH t, ActScalar v) { ACT_STATUS(T(t).fill_(S(v));) }
ACT_EXPORT int32_t act_zero_(TH t) { ACT_STATUS(T(t).zero_();) }
ACT_EXPORT int32_t act_normal_(TH t, double mean, double std, void* g) { ACT_STATUS(T(t).normal_(mean, std, gen(g));) }
ACT_EXPORT int32_t act_uniform_(TH t, double from, double to, void* g) { ACT_STATUS(T(t).uniform_(from, to, gen(g));) }
ACT_EXPORT int32_t act_set_data(TH t, TH data) { ACT_STATUS(T(t).set_data(T(data));) }

// ---------------------------------------------------------------- reductions
enum Reduce { R_SUM, R_MEAN, R_AMAX, R_AMIN, R_LOGSUMEXP, R_PROD, R_VAR, R_STD, R_NORM, R_ANY, R_ALL };
ACT_EXPORT TH act_reduce_all(int32_t op, TH h) {
  ACT_TRY(nullptr, const at::Tensor& x = T(h); switch (op) {
    case R_SUM: return wrap(at::sum(x));
    case R_MEAN: return wrap(at::mean(x));
    case R_AMAX: return wrap(at::max(x));
    case R_AMIN: return wrap(at::min(x));
    case R_LOGSUMEXP: return wrap(at::logsumexp(x.reshape({-1}), {0}, false));
    case R_PROD: return wrap(at::prod(x));
    case R_VAR: return wrap(at::var(x));
    case R_STD: return wrap(at::std(x));
    case R_NORM: return wrap(at::norm(x));
    case R_ANY: return wrap(at::any(x));
    case R_ALL: return wrap(at::all(x));
    default: throw std::invalid_argument("act_reduce_all: unknown op");
  })
}
ACT_EXPORT TH act_reduce_dims(int32_t op, TH h, const int64_t* ds, int32_t n, int32_t keepdim) {
  ACT_TRY(nullptr, const at::Tensor& x = T(h); auto d = dims(ds, n); bool k = keepdim != 0; switch (op) {
    case R_SUM: return wrap(at::sum(x, d, k));
    case R_MEAN: return wrap(at::mean(x, d, k));
    case R_AMAX: return wrap(at::amax(x, d, k));
    case R_AMIN: return wrap(at::amin(x, d, k));
    case R_LOGSUMEXP: return wrap(at::logsumexp(x, d, k));
    case R_PROD: TORCH_CHECK(n == 1, "prod reduces one dimension at a time"); return wrap(at::prod(x, d[0], k));
    case R_VAR: return wrap(at::var(x, d, true, k));
    case R_STD: return wrap(at::std(x, d, true, k));
    case R_NORM: return wrap(at::norm(x, 2, d, k));
    case R_ANY: TORCH_CHECK(n == 1, "any reduces one dimension at a time"); return wrap(at::any(x, d[0], k));
    case R_ALL: TORCH_CHECK(n == 1, "all reduces one dimension at a time"); return wrap(at::all(x, d[0], k));
    default: throw std::invalid_argument("act_reduce_dims: unknown op");
  })
}
// kind 0 argmax, 1 argmin; has_dim 0 = over the flattened tensor.
ACT_EXPORT TH act_arg_reduce(int32_t kind, TH x, int64_t dim, int32_t has_dim, int32_t keepdim) {
  ACT_TRY(nullptr, auto d = has_dim ? c10::optional<int64_t>(dim) : c10::nullopt;
          return wrap(kind == 0 ? at::argmax(T(x), d, keepdim != 0) : at::argmin(T(x), d, keepdim != 0));)
}
// kind 0 max, 1 min along dim: returns values, writes indices.
ACT_EXPORT TH act_minmax_dim(int32_t kind, TH x, int64_t dim, int32_t keepdim, TH* indices) {
  ACT_TRY(nullptr, auto r = kind == 0 ? at::max(T(x), dim, keepdim != 0) : at::min(T(x), dim, keepdim != 0);
          *indices = wrap(std::move(std::get<1>(r))); return wrap(std::move(std::get<0>(r)));)
}
ACT_EXPORT TH act_softmax(TH x, int64_t dim) { ACT_T(at::softmax(T(x), dim)) }
ACT_EXPORT TH act_log_softmax(TH x, int64_t dim) { ACT_T(at::log_softmax(T(x), dim)) }
ACT_EXPORT TH act_cumsum(TH x, int64_t dim) { ACT_T(at::cumsum(T(x), dim)) }
ACT_EXPORT TH act_topk(TH x, int64_t k, int64_t dim, int32_t largest, int32_t sorted, TH* indices) {
  ACT_TRY(nullptr, auto r = at::topk(T(x), k, dim, largest != 0, sorted != 0);
          *indices = wrap(std::move(std::get<1>(r))); return wrap(std::move(std::get<0>(r)));)
}
ACT_EXPORT TH act_sort(TH x, int64_t dim, int32_t descending, TH* indices) {
  ACT_TRY(nullptr, auto r = at::sort(T(x), dim, descending != 0);
          *indices = wrap(std::move(std::get<1>(r))); return wrap(std::move(std::get<0>(r)));)
}
ACT_EXPORT TH act_multinomial(TH probs, int64_t n, int32_t replacement, void* g) {
  ACT_T(at::multinomial(T(probs), n, replacement != 0, gen(g)))
}

// ---------------------------------------------------------------- indexing
ACT_EXPORT TH act_gather(TH x, int64_t dim, TH index) { ACT_T(at::gather(T(x), dim, T(index))) }
ACT_EXPORT TH act_scatter(TH x, int64_t dim, TH index, TH src) { ACT_T(at::scatter(T(x), dim, T(index), T(src))) }
ACT_EXPORT TH act_index_select(TH x, int64_t dim, TH index) { ACT_T(at::index_select(T(x), dim, T(index))) }
ACT_EXPORT TH act_embedding(TH weight, TH indices, int64_t padding_idx) {
  ACT_T(at::embedding(T(weight), T(indices), padding_idx))
}
ACT_EXPORT TH act_triu(TH x, int64_t k) { ACT_T(at::triu(T(x), k)) }
ACT_EXPORT TH act_tril(TH x, int64_t k) { ACT_T(at::tril(T(x), k)) }
ACT_EXPORT TH act_narrow(TH x, int64_t dim, int64_t start, int64_t length) { ACT_T(T(x).narrow(dim, start, length)) }
ACT_EXPORT TH act_select(TH x, int64_t dim, int64_t index) { ACT_T(T(x).select(dim, index)) }
ACT_EXPORT TH act_slice(TH x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  ACT_T(T(x).slice(dim, start, end, step))
}
ACT_EXPORT TH act_pad(TH x, const int64_t* pad, int32_t n, ActScalar value) {
  ACT_T(at::constant_pad_nd(T(x), dims(pad, n), S(value)))
}

// ---------------------------------------------------------------- shape
ACT_EXPORT TH act_view(TH x, const int64_t* s, int32_t n) { ACT_T(T(x).view(dims(s, n))) }
ACT_EXPORT TH act_reshape(TH x, const int64_t* s, int32_t n) { ACT_T(T(x).reshape(dims(s, n))) }
ACT_EXPORT TH act_expand(TH x, const int64_t* s, int32_t n) { ACT_T(T(x).expand(dims(s, n))) }
ACT_EXPORT TH act_repeat(TH x, const int64_t* s, int32_t n) { ACT_T(T(x).repeat(dims(s, n))) }
ACT_EXPORT TH act_permute(TH x, const int64_t* s, int32_t n) { ACT_T(T(x).permute(dims(s, n))) }
ACT_EXPORT TH act_transpose(TH x, int64_t a, int64_t b) { ACT_T(T(x).transpose(a, b)) }
ACT_EXPORT TH act_contiguous(TH x) { ACT_T(T(x).contiguous()) }
ACT_EXPORT TH act_unsqueeze(TH x, int64_t d) { ACT_T(T(x).unsqueeze(d)) }
ACT_EXPORT TH act_squeeze(TH x, int64_t d, int32_t has_dim) { ACT_T(has_dim ? T(x).squeeze(d) : T(x).squeeze()) }
ACT_EXPORT TH act_flatten(TH x, int64_t start, int64_t end) { ACT_T(T(x).flatten(start, end)) }
ACT_EXPORT TH act_clone(TH x) { ACT_T(T(x).clone()) }
ACT_EXPORT TH act_to(TH x, int32_t dt, int32_t dev, int32_t idx) {
  ACT_T(T(x).to(at::Device(static_cast<c10::DeviceType>(dev), static_cast<c10::DeviceIndex>(idx)),
                static_cast<at::ScalarType>(dt)))
}
ACT_EXPORT TH act_cat(TH* ts, int32_t n, int64_t dim) { ACT_T(at::cat(from_handles(ts, n), dim)) }
ACT_EXPORT TH act_stack(TH* ts, int32_t n, int64_t dim) { ACT_T(at::stack(from_handles(ts, n), dim)) }
// Returns a malloc'd array of handles (free with act_free_buffer); *count receives its length.
ACT_EXPORT TH* act_split(TH x, int64_t size, int64_t dim, int32_t* count) {
  ACT_TRY(nullptr, return to_handle_array(at::split(T(x), size, dim), count);)
}
ACT_EXPORT TH* act_chunk(TH x, int64_t chunks, int64_t dim, int32_t* count) {
  ACT_TRY(nullptr, return to_handle_array(at::chunk(T(x), chunks, dim), count);)
}

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
