// The CPU all-reduce of data-parallel trainers: Gloo (Debian's libgloo-dev) behind a C ABI for P/Invoke.
// TorchSharp has no torch.distributed, and we need only a full-mesh connect and a sum. The rendezvous store is ours
// (C#, RendezvousStore.cs): Gloo reaches it through two callbacks. Errors are returned, never thrown across the ABI.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gloo/allreduce.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>

extern "C" {
typedef void (*ac_set_fn)(const char* key, const char* data, int64_t length);
// Blocks until the key exists; returns its length (call again with a larger buffer when it exceeds capacity), or < 0.
typedef int64_t (*ac_get_fn)(const char* key, char* buffer, int64_t capacity);
}

namespace {
thread_local std::string last_error;

class CallbackStore : public gloo::rendezvous::Store {
 public:
  CallbackStore(ac_set_fn set, ac_get_fn get) : set_(set), get_(get) {}
  void set(const std::string& key, const std::vector<char>& data) override { set_(key.c_str(), data.data(), data.size()); }
  std::vector<char> get(const std::string& key) override {
    std::vector<char> buffer(4096);
    int64_t n = get_(key.c_str(), buffer.data(), buffer.size());
    if (n > static_cast<int64_t>(buffer.size())) {
      buffer.resize(n);
      n = get_(key.c_str(), buffer.data(), buffer.size());
    }
    if (n < 0) throw std::runtime_error("rendezvous: no value for key '" + key + "' (timed out or store gone)");
    buffer.resize(n);
    return buffer;
  }
  void wait(const std::vector<std::string>& keys) override {
    for (const auto& k : keys) get(k);
  }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds&) override { wait(keys); }

 private:
  ac_set_fn set_;
  ac_get_fn get_;
};

struct Group {
  std::shared_ptr<gloo::rendezvous::Context> context;
};

template <typename T>
int allreduce_sum(void* group, T* data, int64_t count) {
  try {
    gloo::AllreduceOptions options(static_cast<Group*>(group)->context);
    options.setOutput(data, static_cast<size_t>(count));
    void (*fn)(void*, const void*, const void*, size_t) = &gloo::sum<T>;
    options.setReduceFunction(fn);
    gloo::allreduce(options);
    return 0;
  } catch (const std::exception& e) {
    last_error = e.what();
    return -1;
  }
}
}  // namespace

extern "C" {
const char* ac_gloo_last_error() { return last_error.c_str(); }

void* ac_gloo_connect(int rank, int size, const char* host, ac_set_fn set, ac_get_fn get, int64_t timeout_ms) {
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = host;
    auto device = gloo::transport::tcp::CreateDevice(attr);
    auto context = std::make_shared<gloo::rendezvous::Context>(rank, size);
    context->setTimeout(std::chrono::milliseconds(timeout_ms));
    CallbackStore store(set, get);
    context->connectFullMesh(store, device);
    return new Group{context};
  } catch (const std::exception& e) {
    last_error = e.what();
    return nullptr;
  }
}

int ac_gloo_allreduce_f32(void* group, float* data, int64_t count) { return allreduce_sum(group, data, count); }
int ac_gloo_allreduce_f64(void* group, double* data, int64_t count) { return allreduce_sum(group, data, count); }
void ac_gloo_free(void* group) { delete static_cast<Group*>(group); }
}
