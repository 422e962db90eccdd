// krylovCycle(a, n, m, from, basis, h, breakdown, threads) → size, and krylovCycleAsync (the same on a libuv worker thread,
// → Promise<size>): one Arnoldi cycle of native/core/spectral_radius.h on Float64Arrays read and written in place; the
// matrix a may be a Float32Array (read as float, widened to double).
// Every argument is checked here whatever JS sends; the async call keeps references to its arrays until it settles.
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "binding.h"
#include "contract.h"
#include "guard.h"
#include "hessenberg_eigen.h"
#include "spectral_radius.h"

namespace modprop {
namespace binding {

namespace {

struct KrylovJob {
  const double* a = nullptr;
  const float* a32 = nullptr;
  double* basis = nullptr;
  double* h = nullptr;
  int n = 0, m = 0, from = 0;
  double breakdown = 0;
  std::shared_ptr<ThreadPool> pool;

  int run() const {
    return a32 ? krylovCycle(a32, n, m, from, basis, h, breakdown, *pool)
               : krylovCycle(a, n, m, from, basis, h, breakdown, *pool);
  }
};

int32_t intArg(const Napi::CallbackInfo& cb, size_t index, const char* name, int32_t lo, int32_t hi) {
  const double v = cb.Length() > index && cb[index].IsNumber() ? cb[index].As<Napi::Number>().DoubleValue() : NAN;
  if (!(v >= lo && v <= hi && v == std::floor(v)))
    throw invalidInput(cb.Env(), "Expected an integer between " + std::to_string(lo) + " and " + std::to_string(hi) +
                                     " for the native argument " + name);
  return static_cast<int32_t>(v);
}

bool isArrayOf(const Napi::CallbackInfo& cb, size_t index, napi_typedarray_type type) {
  return cb.Length() > index && cb[index].IsTypedArray() && cb[index].As<Napi::TypedArray>().TypedArrayType() == type;
}

// A Float64Array (T = double) or Float32Array (T = float) argument of exactly `length` entries.
template <typename T>
Napi::TypedArrayOf<T> arrayArg(const Napi::CallbackInfo& cb, size_t index, const char* name, int64_t length) {
  constexpr bool single = std::is_same<T, float>::value;
  if (!isArrayOf(cb, index, single ? napi_float32_array : napi_float64_array))
    throw invalidInput(cb.Env(), std::string("Expected a ") + (single ? "Float32Array" : "Float64Array") +
                                     " for the native argument " + name);
  Napi::TypedArrayOf<T> t = cb[index].As<Napi::TypedArrayOf<T>>();
  if (static_cast<int64_t>(t.ElementLength()) != length)
    throw invalidInput(cb.Env(), "Expected " + std::to_string(length) + " entries for the native argument " + name +
                                     " but received " + std::to_string(t.ElementLength()));
  return t;
}

KrylovJob krylovJob(const Napi::CallbackInfo& cb, std::vector<Napi::ObjectReference>* keep) {
  KrylovJob job;
  job.n = intArg(cb, 1, "n", 2, 46340);  // n² stays below 2³¹
  job.m = intArg(cb, 2, "m", 1, job.n - 1);
  job.from = intArg(cb, 3, "from", 0, job.m - 1);
  const int64_t n = job.n, m = job.m;
  Napi::TypedArray a;
  if (isArrayOf(cb, 0, napi_float32_array)) {
    Napi::Float32Array a32 = arrayArg<float>(cb, 0, "a", n * n);
    job.a32 = a32.Data();
    a = a32;
  } else {
    Napi::Float64Array a64 = arrayArg<double>(cb, 0, "a", n * n);
    job.a = a64.Data();
    a = a64;
  }
  Napi::Float64Array basis = arrayArg<double>(cb, 4, "basis", (m + 1) * n);
  Napi::Float64Array h = arrayArg<double>(cb, 5, "h", (m + 1) * m);
  const double breakdown = cb.Length() > 6 && cb[6].IsNumber() ? cb[6].As<Napi::Number>().DoubleValue() : NAN;
  if (!(breakdown >= 0 && std::isfinite(breakdown)))
    throw invalidInput(cb.Env(), "Expected a finite number ≥ 0 for the native argument breakdown");
  job.breakdown = breakdown;
  job.pool = sharedPool(cb.Env(), intArg(cb, 7, "threads", 1, kMaxThreads));
  job.basis = basis.Data();
  job.h = h.Data();
  if (keep) {
    keep->push_back(Napi::Persistent(static_cast<Napi::Object>(a)));
    keep->push_back(Napi::Persistent(static_cast<Napi::Object>(basis)));
    keep->push_back(Napi::Persistent(static_cast<Napi::Object>(h)));
  }
  return job;
}

Napi::Value krylovSync(const Napi::CallbackInfo& cb) {
  const KrylovJob job = krylovJob(cb, nullptr);
  return Napi::Number::New(cb.Env(), job.run());
}

class KrylovWorker : public Napi::AsyncWorker {
 public:
  KrylovWorker(Napi::Env env, KrylovJob job, std::vector<Napi::ObjectReference> keep)
      : Napi::AsyncWorker(env, "modprop.krylovCycle"),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)),
        keep_(std::move(keep)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      size_ = job_.run();
    } catch (const std::exception& e) {
      SetError(std::string("modprop native engine: ") + e.what());
    }
  }

  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), size_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  // As in kernels.cc: a torn-down environment cannot be told; never throw out of this callback.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    try {
      Napi::AsyncWorker::OnWorkComplete(env, status);
    } catch (...) {
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  KrylovJob job_;
  std::vector<Napi::ObjectReference> keep_;
  int size_ = 0;
};

Napi::Value krylovAsync(const Napi::CallbackInfo& cb) {
  std::vector<Napi::ObjectReference> keep;
  KrylovJob job = krylovJob(cb, &keep);
  auto* worker = new KrylovWorker(cb.Env(), std::move(job), std::move(keep));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// krylovRestart(basis, q, n, m, k): the thick restart's basis update of lib/krylov.ts, in place.
Napi::Value krylovRestartSync(const Napi::CallbackInfo& cb) {
  const int n = intArg(cb, 2, "n", 2, 46340);
  const int m = intArg(cb, 3, "m", 1, n - 1);
  const int k = intArg(cb, 4, "k", 0, m);
  Napi::Float64Array basis = arrayArg<double>(cb, 0, "basis", (int64_t(m) + 1) * n);
  Napi::Float64Array q = arrayArg<double>(cb, 1, "q", int64_t(k) * m);
  krylovRestart(basis.Data(), q.Data(), n, m, k);
  return cb.Env().Undefined();
}

// nonsymmetricEigen(a, n, re, im, vectors) → boolean: the Ritz decomposition of lib/krylov.ts (hessenberg_eigen.h),
// written into re, im (n) and vectors (n×n); false, nothing written, for an exactly symmetric a. n ≤ 512: it is O(n³)
// on the calling thread (60×60 in the Arnoldi iteration: well under a millisecond).
Napi::Value nonsymmetricEigenSync(const Napi::CallbackInfo& cb) {
  const int n = intArg(cb, 1, "n", 1, 512);
  Napi::Float64Array a = arrayArg<double>(cb, 0, "a", int64_t(n) * n);
  Napi::Float64Array re = arrayArg<double>(cb, 2, "re", n);
  Napi::Float64Array im = arrayArg<double>(cb, 3, "im", n);
  Napi::Float64Array vectors = arrayArg<double>(cb, 4, "vectors", int64_t(n) * n);
  return Napi::Boolean::New(cb.Env(), nonsymmetricEigen(n, a.Data(), re.Data(), im.Data(), vectors.Data()));
}

}  // namespace

void registerSpectral(Napi::Env env, Napi::Object exports) {
  exports.Set("krylovCycle", guardedFunction<krylovSync>(env, "krylovCycle"));
  exports.Set("krylovCycleAsync", guardedFunction<krylovAsync>(env, "krylovCycleAsync"));
  exports.Set("krylovRestart", guardedFunction<krylovRestartSync>(env, "krylovRestart"));
  exports.Set("nonsymmetricEigen", guardedFunction<nonsymmetricEigenSync>(env, "nonsymmetricEigen"));
}

}  // namespace binding
}  // namespace modprop
