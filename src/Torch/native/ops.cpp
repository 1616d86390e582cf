// Tensor ops: elementwise, in-place, reductions, indexing, shape.
#include "shim.h"

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

