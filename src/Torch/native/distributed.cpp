// c10d collectives for data-parallel training: stores (TCP, file), process groups (Gloo; NCCL when built against a
// CUDA libtorch), allreduce/broadcast over one tensor or many (coalesced into one flat buffer per dtype), allgather
// and barrier. Compiled outside the unity batch (see CMakeLists.txt).
//
// Safety net: every collective first allgathers a small fixed-size "agreement header" (which collective, reduce op or
// root, dtype, shapes). Ranks that disagree all get the same clear error instead of Gloo's behaviour on mismatched
// sizes, which is to abort the whole process from its I/O thread. A timeout or a lost peer marks the group broken:
// later calls fail at once with the first error.
#include "shim.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef ACT_HAS_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef ACT_HAS_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>

namespace {

using Millis = std::chrono::milliseconds;
using StorePtr = c10::intrusive_ptr<c10d::Store>;
using WorkPtr = c10::intrusive_ptr<c10d::Work>;

// The three calls made on a c10d backend. libtorch 1.13 puts them on ProcessGroup, 2.x on Backend, with the same
// signatures, so one template adapts either concrete group.
struct Backend {
  virtual ~Backend() = default;
  virtual WorkPtr allreduce(std::vector<at::Tensor>& ts, const c10d::AllreduceOptions& o) = 0;
  virtual WorkPtr broadcast(std::vector<at::Tensor>& ts, const c10d::BroadcastOptions& o) = 0;
  virtual WorkPtr allgather(std::vector<std::vector<at::Tensor>>& out, std::vector<at::Tensor>& in) = 0;
};
template <class PG>
struct BackendOf final : Backend {
  explicit BackendOf(c10::intrusive_ptr<PG> p) : pg(std::move(p)) {}
  WorkPtr allreduce(std::vector<at::Tensor>& ts, const c10d::AllreduceOptions& o) override { return pg->allreduce(ts, o); }
  WorkPtr broadcast(std::vector<at::Tensor>& ts, const c10d::BroadcastOptions& o) override { return pg->broadcast(ts, o); }
  WorkPtr allgather(std::vector<std::vector<at::Tensor>>& out, std::vector<at::Tensor>& in) override {
    return pg->allgather(out, in);
  }
  c10::intrusive_ptr<PG> pg;
};

struct Group {
  std::unique_ptr<Backend> backend;
  std::string kind;  // "gloo" | "nccl"
  int rank = 0;
  int size = 1;
  Millis timeout{0};
  at::Device device{at::kCPU};  // where the agreement header lives (NCCL only moves CUDA tensors)
  std::mutex mutex;             // one collective at a time: every rank must issue them in the same order
  std::string broken;           // set after a failure that leaves peers out of step
};

// Collective kinds (first header word) and reduce kinds (values of the C# ReduceOp enum).
enum Kind : int64_t { kAllreduce = 1, kBroadcast = 2, kAllgather = 3, kBarrier = 4 };
enum Reduce : int64_t { kSum = 0, kAvg = 1, kMax = 2, kMin = 3 };
const char* kind_name(int64_t k) {
  switch (k) {
    case kAllreduce: return "allreduce";
    case kBroadcast: return "broadcast";
    case kAllgather: return "allgather";
    case kBarrier: return "barrier";
    default: return "unknown collective";
  }
}
const char* reduce_name(int64_t r) {
  switch (r) {
    case kSum: return "sum";
    case kAvg: return "avg";
    case kMax: return "max";
    case kMin: return "min";
    default: return "?";
  }
}

// Header words: kind, argument (reduce op or root), tensor count, total elements, dtype (-1 if mixed), device type,
// rank of the first shape, its first kMaxDims sizes, and a hash over every tensor's dtype and shape.
constexpr int kMaxDims = 6;
constexpr int kHeaderWords = 8 + kMaxDims;

std::vector<int64_t> header(int64_t kind, int64_t arg, const std::vector<at::Tensor>& ts) {
  std::vector<int64_t> h(kHeaderWords, 0);
  h[0] = kind;
  h[1] = arg;
  h[2] = static_cast<int64_t>(ts.size());
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over (dtype, ndim, sizes...) of each tensor
  auto mix = [&hash](int64_t v) { hash = (hash ^ static_cast<uint64_t>(v)) * 1099511628211ull; };
  for (size_t k = 0; k < ts.size(); ++k) {
    const auto& t = ts[k];
    h[3] += t.numel();
    auto dt = static_cast<int64_t>(t.scalar_type());
    h[4] = k == 0 ? dt : (h[4] == dt ? dt : -1);
    h[5] = static_cast<int64_t>(t.device().type());
    mix(dt);
    mix(t.dim());
    for (auto s : t.sizes()) mix(s);
  }
  if (!ts.empty()) {
    h[6] = ts[0].dim();
    for (int d = 0; d < kMaxDims && d < ts[0].dim(); ++d) h[7 + d] = ts[0].size(d);
  }
  h[kHeaderWords - 1] = static_cast<int64_t>(hash >> 1);
  return h;
}

std::string describe(const int64_t* h) {
  std::ostringstream os;
  os << kind_name(h[0]);
  if (h[0] == kAllreduce) os << "(" << reduce_name(h[1]) << ")";
  if (h[0] == kBroadcast) os << " from rank " << h[1];
  if (h[0] == kBarrier) return os.str();
  if (h[2] == 1) {
    os << " of one tensor of shape [";
    for (int64_t d = 0; d < h[6]; ++d) os << (d ? ", " : "") << (d < kMaxDims ? std::to_string(h[7 + d]) : "...");
    os << "]";
  } else {
    os << " of " << h[2] << " tensors, " << h[3] << " elements in all";
  }
  if (h[4] >= 0) os << " (" << static_cast<at::ScalarType>(h[4]) << ")"; else os << " (mixed dtypes)";
  return os.str();
}

std::string message_of(const std::exception& e) {
  if (auto* ce = dynamic_cast<const c10::Error*>(&e)) return ce->what_without_backtrace();
  return e.what();
}

std::string where(const Group& g, const char* what) {
  return std::string(g.kind) + " " + what + " on rank " + std::to_string(g.rank) + " of " + std::to_string(g.size);
}

// Runs one c10d call and waits for it. Failures (a timeout, a peer that went away) leave the ranks out of step,
// so the group is marked broken and the message says what probably happened.
void run(Group& g, const char* what, const std::function<WorkPtr()>& start) {
  try {
    start()->wait();
  } catch (const std::exception& e) {
    std::string msg = message_of(e);
    std::ostringstream os;
    os << where(g, what) << " failed: " << msg;
    if (msg.find("imed out") != std::string::npos || msg.find("imeout") != std::string::npos) {
      os << " (no answer within " << g.timeout.count() << " ms: another rank did not reach this collective)";
    } else if (msg.find("onnection") != std::string::npos) {
      os << " (a peer closed its connection: it failed, exited or disposed its group)";
    }
    os << ". The process group cannot be used any more; dispose it and create a new one.";
    g.broken = os.str();
    throw std::runtime_error(g.broken);
  }
}

// Exchanges headers; throws the same message on every rank when they disagree.
void agree(Group& g, int64_t kind, int64_t arg, const std::vector<at::Tensor>& ts) {
  TORCH_CHECK(g.broken.empty(), "process group unusable after an earlier failure: ", g.broken);
  auto mine = header(kind, arg, ts);
  auto opts = at::TensorOptions().dtype(at::kLong);
  std::vector<at::Tensor> in{at::from_blob(mine.data(), {kHeaderWords}, opts).to(g.device)};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g.size; ++r) out[0].push_back(at::empty({kHeaderWords}, opts.device(g.device)));
  run(g, kind_name(kind), [&] { return g.backend->allgather(out, in); });
  auto all = at::stack(out[0]).cpu().contiguous();
  const int64_t* p = all.data_ptr<int64_t>();
  bool same = true;
  for (int r = 0; r < g.size && same; ++r) same = std::equal(p, p + kHeaderWords, p + r * kHeaderWords);
  if (same) return;
  std::ostringstream os;
  os << "ranks disagree on the collective (every rank must make the same calls with the same shapes):";
  for (int r = 0; r < g.size; ++r) os << (r ? ";" : "") << " rank " << r << ": " << describe(p + r * kHeaderWords);
  throw std::invalid_argument(os.str());
}

// Groups tensor indices by (dtype, device), keeping first-seen order; each group becomes one flat buffer.
std::vector<std::vector<size_t>> buckets(const std::vector<at::Tensor>& ts) {
  std::vector<std::vector<size_t>> out;
  for (size_t k = 0; k < ts.size(); ++k) {
    auto it = std::find_if(out.begin(), out.end(), [&](const std::vector<size_t>& b) {
      return ts[b[0]].scalar_type() == ts[k].scalar_type() && ts[b[0]].device() == ts[k].device();
    });
    if (it == out.end()) out.push_back({k}); else it->push_back(k);
  }
  return out;
}

// Runs `op` on one buffer per bucket: the tensor itself when alone and contiguous, else a flat copy whose result
// is copied back into each tensor.
void coalesced(const std::vector<at::Tensor>& ts, const std::function<void(at::Tensor&)>& op) {
  for (const auto& b : buckets(ts)) {
    if (b.size() == 1 && ts[b[0]].is_contiguous()) {
      at::Tensor t = ts[b[0]];
      op(t);
      t.unsafeGetTensorImpl()->bump_version();  // written behind autograd's back, like any in-place op
      continue;
    }
    std::vector<at::Tensor> flat;
    flat.reserve(b.size());
    for (auto k : b) flat.push_back(ts[k].reshape({-1}));
    at::Tensor buffer = at::cat(flat);
    op(buffer);
    int64_t offset = 0;
    for (auto k : b) {
      auto n = ts[k].numel();
      ts[k].copy_(buffer.narrow(0, offset, n).view(ts[k].sizes()));
      offset += n;
    }
  }
}

c10d::ReduceOp reduce_op(int64_t r) {
  switch (r) {
    case kSum: case kAvg: return c10d::ReduceOp(c10d::ReduceOp::SUM);
    case kMax: return c10d::ReduceOp(c10d::ReduceOp::MAX);
    case kMin: return c10d::ReduceOp(c10d::ReduceOp::MIN);
    default: throw std::invalid_argument("unknown reduce op " + std::to_string(r));
  }
}

// The tensors a list of handles names: the tensors themselves, or (grads != 0) their gradients, where a parameter
// that requires grad but has none gets zeros (it contributes nothing on this rank; the layout stays the same on all).
std::vector<at::Tensor> targets(TH* hs, int32_t n, int32_t grads) {
  std::vector<at::Tensor> ts;
  ts.reserve(n);
  for (int32_t k = 0; k < n; ++k) {
    at::Tensor& t = T(hs[k]);
    if (!grads) { ts.push_back(t); continue; }
    if (!t.requires_grad()) continue;
    if (!t.grad().defined()) t.mutable_grad() = at::zeros_like(t);
    ts.push_back(t.grad());
  }
  return ts;
}

Group& G(void* g) { return *static_cast<Group*>(g); }

// Throws unless `kind` names a backend this build has.
void check_backend(const std::string& kind) {
#ifndef ACT_HAS_GLOO
  TORCH_CHECK(kind != "gloo", "the gloo backend is not available: this aligncluster_torch was built without Gloo "
              "(the libtorch " TORCH_VERSION " headers lack ProcessGroupGloo.hpp or gloo/context.h)");
#endif
#ifndef ACT_HAS_NCCL
  TORCH_CHECK(kind != "nccl", "the nccl backend is not available: this aligncluster_torch was built against "
              "libtorch " TORCH_VERSION " without NCCL. Build with TORCH_ROOT pointing at a CUDA PyTorch install "
              "(with nccl.h and the CUDA headers) to get it, or use the gloo backend");
#endif
  TORCH_CHECK(kind == "gloo" || kind == "nccl", "unknown backend '", kind, "' (expected gloo or nccl)");
}

std::unique_ptr<Backend> make_backend(const std::string& kind, const StorePtr& store, int rank, int size, Millis timeout,
                                      const char* hostname) {
#ifdef ACT_HAS_GLOO
  if (kind == "gloo") {
    auto o = c10d::ProcessGroupGloo::Options::create(timeout);
    o->devices.push_back(hostname && *hostname ? c10d::ProcessGroupGloo::createDeviceForHostname(hostname)
                                               : c10d::ProcessGroupGloo::createDefaultDevice());
    o->threads = 2;  // torch.distributed's default
    return std::make_unique<BackendOf<c10d::ProcessGroupGloo>>(
        c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, o));
  }
#endif
#ifdef ACT_HAS_NCCL
  if (kind == "nccl") {
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = timeout;
    return std::make_unique<BackendOf<c10d::ProcessGroupNCCL>>(
        c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, o));
  }
#endif
  check_backend(kind);
  throw std::logic_error("unreachable");
}

}  // namespace

// ---------------------------------------------------------------- availability, stores
ACT_EXPORT int32_t act_dist_backend_available(const char* kind) {
  std::string k = kind ? kind : "";
#ifdef ACT_HAS_GLOO
  if (k == "gloo") return 1;
#endif
#ifdef ACT_HAS_NCCL
  if (k == "nccl") return 1;
#endif
  return 0;
}
// A TCPStore: the master (is_master != 0) serves host:port (port 0: any free port, see act_dist_store_port);
// the others connect to it, retrying until timeout_ms.
ACT_EXPORT void* act_dist_tcp_store(const char* host, int32_t port, int32_t world_size, int32_t is_master,
                                    int64_t timeout_ms) {
  ACT_TRY(nullptr,
          TORCH_CHECK(port >= 0 && port <= 65535, "TCPStore port ", port, " is out of range 0..65535");
          TORCH_CHECK(world_size >= 1, "TCPStore world size must be at least 1, got ", world_size);
          c10d::TCPStoreOptions o;
          o.port = static_cast<uint16_t>(port);
          o.isServer = is_master != 0;
          o.numWorkers = static_cast<size_t>(world_size);
          o.waitWorkers = false;  // the process group's rendezvous waits for every rank (with its own timeout)
          o.timeout = Millis(timeout_ms);
          try {
            return new StorePtr(c10::make_intrusive<c10d::TCPStore>(host, o));
          } catch (const std::exception& e) {
            throw std::runtime_error(std::string("TCPStore ") + (is_master ? "serving " : "connecting to ") + host +
                                     ":" + std::to_string(port) + " failed: " + message_of(e));
          })
}
// A FileStore: every rank opens the same path (a shared file system; the file is removed when all ranks closed it).
ACT_EXPORT void* act_dist_file_store(const char* path, int32_t world_size, int64_t timeout_ms) {
  ACT_TRY(nullptr,
          TORCH_CHECK(world_size >= 1, "FileStore world size must be at least 1, got ", world_size);
          auto s = c10::make_intrusive<c10d::FileStore>(path, world_size);
          s->setTimeout(Millis(timeout_ms));
          return new StorePtr(std::move(s));)
}
ACT_EXPORT int32_t act_dist_store_port(void* s) {
  ACT_TRY(-1, auto* tcp = dynamic_cast<c10d::TCPStore*>(static_cast<StorePtr*>(s)->get());
          TORCH_CHECK(tcp, "not a TCPStore"); return tcp->getPort();)
}
ACT_EXPORT void act_dist_store_free(void* s) { delete static_cast<StorePtr*>(s); }

// ---------------------------------------------------------------- process groups
// Joins a group: blocks until all world_size ranks joined through the store (or timeout_ms passes). `prefix`
// namespaces the group's keys in the store (several groups may share one store). Gloo listens on `hostname`
// (empty: the machine's default interface); NCCL runs on cuda:device_index.
ACT_EXPORT void* act_dist_group_new(const char* backend, void* store, const char* prefix, int32_t rank,
                                    int32_t world_size, int64_t timeout_ms, const char* hostname,
                                    int32_t device_index) {
  ACT_TRY(nullptr,
          std::string kind = backend ? backend : "";
          TORCH_CHECK(world_size >= 1, "world size must be at least 1, got ", world_size);
          TORCH_CHECK(rank >= 0 && rank < world_size, "rank ", rank, " is outside 0..", world_size - 1);
          TORCH_CHECK(timeout_ms > 0, "timeout must be positive, got ", timeout_ms, " ms");
          StorePtr base = *static_cast<StorePtr*>(store);
          StorePtr scoped = base;
          if (prefix && *prefix) scoped = c10::make_intrusive<c10d::PrefixStore>(prefix, base);
          auto g = std::make_unique<Group>();
          g->kind = kind;
          g->rank = rank;
          g->size = world_size;
          g->timeout = Millis(timeout_ms);
          if (kind == "nccl") g->device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index));
          check_backend(kind);
          try {
            g->backend = make_backend(kind, scoped, rank, world_size, g->timeout, hostname);
            // Connecting finishes at different times on different ranks; one that returned and disposed its group
            // at once would cut off a peer still connecting. A first exchange makes every rank wait for all.
            agree(*g, kBarrier, 0, {});
          } catch (const std::exception& e) {
            throw std::runtime_error(where(*g, "rendezvous") + " failed (did every rank join within " +
                                     std::to_string(timeout_ms) + " ms?): " + message_of(e));
          }
          return g.release();)
}
ACT_EXPORT void act_dist_group_free(void* g) { delete static_cast<Group*>(g); }

// ---------------------------------------------------------------- collectives
// In place over n tensors (grads != 0: over their gradients). op: 0 sum, 1 avg (sum / world size), 2 max, 3 min.
ACT_EXPORT int32_t act_dist_allreduce(void* group, TH* tensors, int32_t n, int32_t op, int32_t grads) {
  ACT_STATUS(Group& g = G(group); std::lock_guard<std::mutex> lock(g.mutex); at::NoGradGuard no_grad;
             auto ts = targets(tensors, n, grads);
             agree(g, kAllreduce, op, ts);
             if (op == kAvg) {
               for (const auto& t : ts)
                 TORCH_CHECK(at::isFloatingType(t.scalar_type()), "allreduce avg needs floating-point tensors, got ",
                             t.scalar_type(), " (use sum and divide)");
             }
             c10d::AllreduceOptions o;
             o.reduceOp = reduce_op(op);
             coalesced(ts, [&](at::Tensor& buffer) {
               std::vector<at::Tensor> one{buffer};
               run(g, "allreduce", [&] { return g.backend->allreduce(one, o); });
               if (op == kAvg) buffer.div_(g.size);
             });)
}
// In place: every rank ends with root's values.
ACT_EXPORT int32_t act_dist_broadcast(void* group, TH* tensors, int32_t n, int32_t root) {
  ACT_STATUS(Group& g = G(group); std::lock_guard<std::mutex> lock(g.mutex); at::NoGradGuard no_grad;
             auto ts = targets(tensors, n, 0);
             agree(g, kBroadcast, root, ts);
             TORCH_CHECK(root >= 0 && root < g.size, "broadcast root ", root, " is outside 0..", g.size - 1);
             c10d::BroadcastOptions o;
             o.rootRank = root;
             coalesced(ts, [&](at::Tensor& buffer) {
               std::vector<at::Tensor> one{buffer};
               run(g, "broadcast", [&] { return g.backend->broadcast(one, o); });
             });)
}
// Every rank's copy of `t`, in rank order (world size new tensors).
ACT_EXPORT TH* act_dist_allgather(void* group, TH t, int32_t* count) {
  ACT_TRY(nullptr, Group& g = G(group); std::lock_guard<std::mutex> lock(g.mutex); at::NoGradGuard no_grad;
          std::vector<at::Tensor> in{T(t).detach().contiguous()};
          agree(g, kAllgather, 0, in);
          std::vector<std::vector<at::Tensor>> out(1);
          for (int r = 0; r < g.size; ++r) out[0].push_back(at::empty_like(in[0]));
          run(g, "allgather", [&] { return g.backend->allgather(out, in); });
          return to_handle_array(std::move(out[0]), count);)
}
// Returns once every rank called it (the header exchange is itself a full synchronisation).
ACT_EXPORT int32_t act_dist_barrier(void* group) {
  ACT_STATUS(Group& g = G(group); std::lock_guard<std::mutex> lock(g.mutex); agree(g, kBarrier, 0, {});)
}
