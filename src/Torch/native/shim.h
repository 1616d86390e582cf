#pragma once
// AlignCluster.Torch native shim: a flat C ABI over libtorch (ATen + autograd) for P/Invoke.
// Shared helpers of runtime.cpp, ops.cpp and nn.cpp (CMake compiles the three as one unity translation unit,
// since libtorch headers are slow to parse).
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

namespace act {

inline thread_local std::string g_error;
inline thread_local bool g_has_error = false;

inline void set_error(const char* message) {
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

inline TH* to_handle_array(std::vector<at::Tensor>&& ts, int32_t* count) {
  auto out = static_cast<TH*>(std::malloc(sizeof(TH) * (ts.empty() ? 1 : ts.size())));
  for (size_t k = 0; k < ts.size(); ++k) out[k] = new at::Tensor(std::move(ts[k]));
  *count = static_cast<int32_t>(ts.size());
  return out;
}
inline std::vector<at::Tensor> from_handles(TH* hs, int32_t n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int32_t k = 0; k < n; ++k) v.push_back(*hs[k]);
  return v;
}

}  // namespace act

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

using namespace act;
