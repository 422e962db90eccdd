// optimizerStep / optimizerStepAsync (native/core/optimizer.h) for train(): unpack the four parameter matrices,
// their gradients and Adam's moments into a plain job (the arrays are read and written in place), check every length
// and index here whatever JS sends, and answer [status, matrix, index] (status 0 ok, 1 non-finite gradient,
// 2 non-finite new parameter, restored). The async form runs the same job on a libuv worker for large networks.
#include <cmath>
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


template <typename T>
Napi::TypedArrayOf<T> typedAt(Napi::Env env, Napi::Value v, napi_typedarray_type type, const std::string& what, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) throw invalidArgument(env, what, name, v);
  return v.As<Napi::TypedArrayOf<T>>();
}

// Four typed arrays of one type, e.g. the parameters; their pointers into `out`, their lengths checked against `n`.
template <typename T>
void fourArrays(const Napi::CallbackInfo& cb, size_t at, napi_typedarray_type type, const char* typeName, const char* name,
                T** out, size_t* n, bool setLengths, std::vector<Napi::ObjectReference>* keep) {
  Napi::Env env = cb.Env();
  const std::string what = std::string("an array of 4 ") + typeName + "s (win, wrec, wout, bout)";
  if (cb.Length() <= at || !cb[at].IsArray() || cb[at].As<Napi::Array>().Length() != optimizer::kParams)
    throw invalidArgument(env, what, name, cb.Length() > at ? cb[at] : env.Undefined());
  Napi::Array list = cb[at].As<Napi::Array>();
  for (uint32_t k = 0; k < optimizer::kParams; k++) {
    auto a = typedAt<T>(env, list.Get(k), type, what, std::string(name) + "[" + std::to_string(k) + "]");
    if (setLengths) n[k] = a.ElementLength();
    else if (a.ElementLength() != n[k])
      throw invalidArgument(env, std::string("a ") + typeName + " of the length of params[" + std::to_string(k) + "] (" + std::to_string(n[k]) + ")",
                            std::string(name) + "[" + std::to_string(k) + "]", a);
    out[k] = a.Data();
    if (keep) keep->push_back(Napi::Persistent(a.template As<Napi::Object>()));
  }
}

// optimizerStep(floats [adam 0|1, lr, l2, c1, c2], params, grads, m | null, v | null, types, typeSigns | null, nOut)
optimizer::StepJob stepJobAt(const Napi::CallbackInfo& cb, size_t at, std::vector<Napi::ObjectReference>* keep) {
  Napi::Env env = cb.Env();
  optimizer::StepJob job;
  if (cb.Length() < at + 8) throw invalidArgument(env, std::to_string(at + 8) + " arguments", "optimizerStep", Napi::Number::New(env, static_cast<double>(cb.Length())));
  auto f = typedAt<double>(env, cb[at + 0], napi_float64_array, "a Float64Array [adam, lr, l2, c1, c2]", "floats");
  if (f.ElementLength() != 5) throw invalidArgument(env, "a Float64Array [adam, lr, l2, c1, c2]", "floats", cb[at + 0]);
  for (size_t i = 0; i < 5; i++)
    if (!std::isfinite(f[i])) throw invalidArgument(env, "a finite number", "floats[" + std::to_string(i) + "]", Napi::Number::New(env, f[i]));
  if (f[0] != 0 && f[0] != 1) throw invalidArgument(env, "0 (sgd) or 1 (adam)", "floats[0]", Napi::Number::New(env, f[0]));
  job.adam = f[0] == 1;
  job.lr = f[1];
  job.l2 = f[2];
  job.c1 = f[3];
  job.c2 = f[4];
  if (job.lr <= 0 || job.l2 < 0 || !(job.c1 > 0) || !(job.c2 > 0)) throw invalidArgument(env, "lr > 0, l2 ≥ 0, c1 > 0, c2 > 0", "floats", cb[at + 0]);
  fourArrays<float>(cb, at + 1, napi_float32_array, "Float32Array", "params", job.w, job.n, true, keep);
  fourArrays<float>(cb, at + 2, napi_float32_array, "Float32Array", "grads", job.g, job.n, false, keep);
  if (job.adam) {
    fourArrays<double>(cb, at + 3, napi_float64_array, "Float64Array", "m", job.m, job.n, false, keep);
    fourArrays<double>(cb, at + 4, napi_float64_array, "Float64Array", "v", job.v, job.n, false, keep);
  }
  auto types = typedAt<int32_t>(env, cb[at + 5], napi_int32_array, "an Int32Array of type ids", "types");
  job.nRec = types.ElementLength();
  if (!cb[at + 7].IsNumber()) throw invalidArgument(env, "an integer ≥ 1", "nOut", cb[at + 7]);
  const double nOut = cb[at + 7].As<Napi::Number>().DoubleValue();
  if (!(nOut >= 1) || nOut != std::floor(nOut) || nOut > 1e9) throw invalidArgument(env, "an integer ≥ 1", "nOut", cb[at + 7]);
  job.nOut = static_cast<size_t>(nOut);
  if (job.n[1] != job.nRec * job.nRec) throw invalidArgument(env, "wrec of types.length² elements", "params[1]", cb[at + 1].As<Napi::Array>().Get(1u));
  if (job.n[2] != job.nRec * job.nOut) throw invalidArgument(env, "wout of types.length × nOut elements", "params[2]", cb[at + 1].As<Napi::Array>().Get(2u));
  job.types = types.Data();
  if (!cb[at + 6].IsNull()) {
    auto signs = typedAt<int8_t>(env, cb[at + 6], napi_int8_array, "an Int8Array of type signs, or null", "typeSigns");
    for (size_t p = 0; p < job.nRec; p++)
      if (job.types[p] < 0 || static_cast<size_t>(job.types[p]) >= signs.ElementLength())
        throw invalidArgument(env, "type ids between 0 and typeSigns.length − 1", "types[" + std::to_string(p) + "]", Napi::Number::New(env, job.types[p]));
    job.typeSigns = signs.Data();
    if (keep) keep->push_back(Napi::Persistent(signs.As<Napi::Object>()));
  }
  if (keep) keep->push_back(Napi::Persistent(types.As<Napi::Object>()));
  return job;
}

Napi::Value resultOf(Napi::Env env, const optimizer::StepResult& r) {
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, static_cast<int32_t>(r.status)));
  out.Set(1u, Napi::Number::New(env, r.matrix));
  out.Set(2u, Napi::Number::New(env, static_cast<double>(r.index)));
  return out;
}

Napi::Value optimizerStep(const Napi::CallbackInfo& cb) {
  return resultOf(cb.Env(), optimizer::step(stepJobAt(cb, 0, nullptr)));
}

struct StepRun {
  optimizer::StepJob job;
  optimizer::StepResult outcome;
  void run() { outcome = optimizer::step(job); }
  Napi::Value result(Napi::Env env) { return resultOf(env, outcome); }
};

Napi::Value optimizerStepAsync(const Napi::CallbackInfo& cb) {
  std::vector<Napi::ObjectReference> keep;
  StepRun run{stepJobAt(cb, 0, &keep), {}};
  return JobWorker<StepRun>::queue(cb.Env(), "modprop.optimizerStep", run, std::move(keep));
}

}  // namespace

optimizer::StepJob optimizerStepJob(const Napi::CallbackInfo& cb, size_t at, std::vector<Napi::ObjectReference>* keep) {
  return stepJobAt(cb, at, keep);
}

void registerOptimizer(Napi::Env env, Napi::Object exports) {
  exports.Set("optimizerStep", guardedFunction<optimizerStep>(env, "optimizerStep"));
  exports.Set("optimizerStepAsync", guardedFunction<optimizerStepAsync>(env, "optimizerStepAsync"));
}

}  // namespace binding
}  // namespace modprop
