// firstNonFiniteAsync(arrays): the finiteness check of a forward pass's results (lib/resultChecks.ts) on a libuv
// worker instead of the JS thread (v and z hold B·T·N floats each: ~7 M at paper size, ~3.5 ms of JS). Resolves with
// [array, index] of the first non-finite entry, or null when every entry is finite.
#include <string>
#include <vector>

#include "binding.h"
#include "describe.h"
#include "guard.h"
#include "job_worker.h"
#include "optimizer.h"

namespace modprop {
namespace binding {

namespace {

struct ScanRun {
  std::vector<const float*> data;
  std::vector<size_t> lengths;
  int32_t array = -1;
  size_t index = 0;
  void run() {
    for (size_t k = 0; k < data.size() && array < 0; k++) {
      const size_t at = optimizer::firstNonFinite(data[k], lengths[k]);
      if (at < lengths[k]) {
        array = static_cast<int32_t>(k);
        index = at;
      }
    }
  }
  Napi::Value result(Napi::Env env) {
    if (array < 0) return env.Null();
    Napi::Array out = Napi::Array::New(env, 2);
    out.Set(0u, Napi::Number::New(env, array));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(index)));
    return out;
  }
};

Napi::Value firstNonFiniteAsync(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  Napi::Value list = cb.Length() > 0 ? cb[0] : env.Undefined();
  if (!list.IsArray()) throw invalidArgument(env, "an array of Float32Arrays", "arrays", list);
  Napi::Array arrays = list.As<Napi::Array>();
  ScanRun run;
  std::vector<Napi::ObjectReference> keep;
  for (uint32_t k = 0; k < arrays.Length(); k++) {
    Napi::Value v = arrays.Get(k);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw invalidArgument(env, "a Float32Array", "arrays[" + std::to_string(k) + "]", v);
    auto a = v.As<Napi::Float32Array>();
    run.data.push_back(a.Data());
    run.lengths.push_back(a.ElementLength());
    keep.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  return JobWorker<ScanRun>::queue(env, "modprop.finite", std::move(run), std::move(keep));
}

// firstNonFinite(array) → the index of the first non-finite entry of a Float32Array, or -1: lib/validate.ts's check
// of large weight arrays on every call (Wrec at N = 4096: ≈ 3 ms here against 15–25 ms of JavaScript).
Napi::Value firstNonFiniteSync(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  Napi::Value v = cb.Length() > 0 ? cb[0] : env.Undefined();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw invalidArgument(env, "a Float32Array", "array", v);
  auto a = v.As<Napi::Float32Array>();
  const size_t at = optimizer::firstNonFinite(a.Data(), a.ElementLength());
  return Napi::Number::New(env, at < a.ElementLength() ? static_cast<double>(at) : -1.0);
}

}  // namespace

void registerFinite(Napi::Env env, Napi::Object exports) {
  exports.Set("firstNonFiniteAsync", guardedFunction<firstNonFiniteAsync>(env, "firstNonFiniteAsync"));
  exports.Set("firstNonFinite", guardedFunction<firstNonFiniteSync>(env, "firstNonFinite"));
}

}  // namespace binding
}  // namespace modprop
