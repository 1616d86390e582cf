// Errors, runtime settings, metadata, creation and copy-out.
#include "shim.h"

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

