// The tasks' native sampler (native/core/sampler.h): delayedXorFast (sync), delayedXorFastAsync (a libuv worker, so a
// batch is drawn while the JS thread and the pool do other work), and fastNormals / samplerMath for the parity tests
// against lib/tasks/fastNormal.ts. Arguments are checked here (lib/tasks/delayedXor.ts has already validated the
// user's options; these messages guard the raw binding) and errors carry code MODPROP_INVALID.
#include <cmath>
#include <string>
#include <vector>

#include "binding.h"
#include "describe.h"
#include "guard.h"
#include "job_worker.h"
#include "init_wrec.h"
#include "sampler.h"

namespace modprop {
namespace binding {

namespace {

Napi::Error samplerInvalid(Napi::Env env, const std::string& what, const std::string& name, const Napi::Value& got) {
  return invalidArgument(env, what, name, got);
}

// The arguments of a call, or of a JS array passed as one argument (trainStepAsync's draw), by position.
struct Args {
  Napi::Env env;
  std::vector<Napi::Value> values;
  Args(const Napi::CallbackInfo& cb) : env(cb.Env()) {  // NOLINT: implicit, so the entry points pass cb as is
    for (size_t i = 0; i < cb.Length(); i++) values.push_back(cb[i]);
  }
  Args(Napi::Env e, const Napi::Array& a) : env(e) {
    for (uint32_t i = 0; i < a.Length(); i++) values.push_back(a.Get(i));
  }
  size_t Length() const { return values.size(); }
  Napi::Value operator[](size_t i) const { return i < values.size() ? values[i] : env.Undefined(); }
  Napi::Env Env() const { return env; }
};

template <typename T>
Napi::TypedArrayOf<T> typedArg(const Args& cb, size_t i, napi_typedarray_type type, const char* what, const char* name) {
  if (cb.Length() <= i || !cb[i].IsTypedArray() || cb[i].As<Napi::TypedArray>().TypedArrayType() != type)
    throw samplerInvalid(cb.Env(), what, name, cb[i]);
  return cb[i].As<Napi::TypedArrayOf<T>>();
}

double numberArg(const Args& cb, size_t i, const char* name) {
  if (cb.Length() <= i || !cb[i].IsNumber() || !std::isfinite(cb[i].As<Napi::Number>().DoubleValue()))
    throw samplerInvalid(cb.Env(), "a finite number", name, cb[i]);
  return cb[i].As<Napi::Number>().DoubleValue();
}

sampler::Xoshiro128 stateArg(const Args& cb, size_t i) {
  auto s = typedArg<uint32_t>(cb, i, napi_uint32_array, "a Uint32Array of 4 state words, not all 0", "state");
  if (s.ElementLength() != 4 || (s[0] | s[1] | s[2] | s[3]) == 0)
    throw samplerInvalid(cb.Env(), "a Uint32Array of 4 state words, not all 0", "state", cb[i]);
  return sampler::Xoshiro128{{s[0], s[1], s[2], s[3]}};
}

// delayedXorFast(state, bits, bump, x, steps, baseline, noise): the job and the arrays it points into.
sampler::DelayedXorJob delayedXorJob(const Args& cb, std::vector<Napi::ObjectReference>* keep) {
  Napi::Env env = cb.Env();
  const sampler::Xoshiro128 rng = stateArg(cb, 0);
  auto bits = typedArg<uint8_t>(cb, 1, napi_uint8_array, "a Uint8Array of 2 bits per sequence", "bits");
  auto bump = typedArg<double>(cb, 2, napi_float64_array, "a Float64Array (the cue bump)", "bump");
  auto x = typedArg<float>(cb, 3, napi_float32_array, "a Float32Array", "x");
  const double steps = numberArg(cb, 4, "steps");
  sampler::DelayedXorJob job{};
  for (int k = 0; k < 4; k++) job.noiseState[k] = rng.s[k];
  job.batch = bits.ElementLength() / 2;
  job.cue = bump.ElementLength();
  if (bits.ElementLength() == 0 || bits.ElementLength() % 2 != 0) throw samplerInvalid(env, "a non-empty Uint8Array of 2 bits per sequence", "bits", cb[1]);
  if (job.cue == 0) throw samplerInvalid(env, "a non-empty Float64Array", "bump", cb[2]);
  if (steps != std::floor(steps) || steps < static_cast<double>(job.cue) || steps > 1e15)
    throw samplerInvalid(env, "an integer ≥ bump.length", "steps", cb[4]);
  job.steps = static_cast<size_t>(steps);
  if (x.ElementLength() != job.batch * job.steps * 2) throw samplerInvalid(env, "a Float32Array of bits.length / 2 × steps × 2 elements", "x", cb[3]);
  job.baseline = numberArg(cb, 5, "baseline");
  job.noise = numberArg(cb, 6, "noise");
  if (job.noise < 0) throw samplerInvalid(env, "a finite number ≥ 0", "noise", cb[6]);
  job.bits = bits.Data();
  job.bump = bump.Data();
  job.x = x.Data();
  if (keep) {
    for (Napi::Value v : {cb[1], cb[2], cb[3]}) keep->push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  return job;
}

Napi::Value delayedXorFast(const Napi::CallbackInfo& cb) {
  sampler::delayedXor(delayedXorJob(Args(cb), nullptr));
  return cb.Env().Undefined();
}

struct DelayedXorRun {
  sampler::DelayedXorJob job;
  void run() { sampler::delayedXor(job); }
  Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

Napi::Value delayedXorFastAsync(const Napi::CallbackInfo& cb) {
  std::vector<Napi::ObjectReference> keep;
  DelayedXorRun run{delayedXorJob(Args(cb), &keep)};
  return JobWorker<DelayedXorRun>::queue(cb.Env(), "modprop.sample", run, std::move(keep));
}

// fastNormals(state, out): fills the Float64Array `out` with the stream's next normals.
Napi::Value fastNormals(const Napi::CallbackInfo& cb) {
  sampler::Xoshiro128 rng = stateArg(cb, 0);
  auto out = typedArg<double>(cb, 1, napi_float64_array, "a Float64Array", "out");
  sampler::fastNormals(rng, out.Data(), out.ElementLength());
  return cb.Env().Undefined();
}

// balancedWrecPasses(state, n, rowSigns, mask, w32) → max |w32|: init::balancedPasses (lib/network.ts initialParams
// above N = 200) into the Float32Array w32 (n² entries); rowSigns an Int8Array of n signs or null (no Dale), mask a
// Uint8Array of n² or null.
Napi::Value balancedWrecPasses(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  sampler::Xoshiro128 rng = stateArg(cb, 0);
  const double nArg = numberArg(cb, 1, "n");
  if (nArg != std::floor(nArg) || nArg < 1 || nArg > 46340) throw samplerInvalid(env, "an integer between 1 and 46340", "n", cb[1]);
  const int n = static_cast<int>(nArg);
  const size_t nn = size_t(n) * n;
  const int8_t* rowSign = nullptr;
  if (!cb[2].IsNull()) {
    auto signs = typedArg<int8_t>(cb, 2, napi_int8_array, "an Int8Array of n signs or null", "rowSigns");
    if (signs.ElementLength() != size_t(n)) throw samplerInvalid(env, "an Int8Array of n signs or null", "rowSigns", cb[2]);
    rowSign = signs.Data();
  }
  const uint8_t* mask = nullptr;
  if (!cb[3].IsNull()) {
    auto m = typedArg<uint8_t>(cb, 3, napi_uint8_array, "a Uint8Array of n² entries or null", "mask");
    if (m.ElementLength() != nn) throw samplerInvalid(env, "a Uint8Array of n² entries or null", "mask", cb[3]);
    mask = m.Data();
  }
  auto w32 = typedArg<float>(cb, 4, napi_float32_array, "a Float32Array of n² entries", "w32");
  if (w32.ElementLength() != nn) throw samplerInvalid(env, "a Float32Array of n² entries", "w32", cb[4]);
  return Napi::Number::New(env, init::balancedPasses(rng, n, rowSign, mask, w32.Data()));
}

// scaleInPlace(w32, rho): w32[k] = float32(w32[k] / rho); rho a finite number > 0.
Napi::Value scaleInPlace(const Napi::CallbackInfo& cb) {
  auto w = typedArg<float>(cb, 0, napi_float32_array, "a Float32Array", "w32");
  const double rho = numberArg(cb, 1, "rho");
  if (!(rho > 0) || !std::isfinite(rho)) throw samplerInvalid(cb.Env(), "a finite number > 0", "rho", cb[1]);
  init::scaleInPlace(w.Data(), w.ElementLength(), rho);
  return cb.Env().Undefined();
}

// samplerMath(which, values): exp (which = 0, values ≤ 0) or log (which = 1, values in (0, 1]) of the sampler, in place.
Napi::Value samplerMath(const Napi::CallbackInfo& cb) {
  const double which = numberArg(cb, 0, "which");
  if (which != 0 && which != 1) throw samplerInvalid(cb.Env(), "0 (exp) or 1 (log)", "which", cb[0]);
  auto v = typedArg<double>(cb, 1, napi_float64_array, "a Float64Array", "values");
  for (size_t i = 0; i < v.ElementLength(); i++) {
    const double a = v[i];
    if (which == 0 ? !(a <= 0 && a > -745) : !(a > 0 && a <= 1))
      throw samplerInvalid(cb.Env(), which == 0 ? "values in (-745, 0]" : "values in (0, 1]", "values[" + std::to_string(i) + "]",
                           Napi::Number::New(cb.Env(), a));
    v[i] = which == 0 ? sampler::expNonPositive(a) : sampler::logUnit(a);
  }
  return cb.Env().Undefined();
}

}  // namespace

sampler::DelayedXorJob delayedXorJobOf(Napi::Env env, const Napi::Array& args, std::vector<Napi::ObjectReference>* keep) {
  return delayedXorJob(Args(env, args), keep);
}

void registerSampler(Napi::Env env, Napi::Object exports) {
  exports.Set("delayedXorFast", guardedFunction<delayedXorFast>(env, "delayedXorFast"));
  exports.Set("delayedXorFastAsync", guardedFunction<delayedXorFastAsync>(env, "delayedXorFastAsync"));
  exports.Set("fastNormals", guardedFunction<fastNormals>(env, "fastNormals"));
  exports.Set("samplerMath", guardedFunction<samplerMath>(env, "samplerMath"));
  exports.Set("balancedWrecPasses", guardedFunction<balancedWrecPasses>(env, "balancedWrecPasses"));
  exports.Set("scaleInPlace", guardedFunction<scaleInPlace>(env, "scaleInPlace"));
}

}  // namespace binding
}  // namespace modprop
