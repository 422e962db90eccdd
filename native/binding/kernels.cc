// forward, forwardAsync, gradients, gradientsAsync, setThreads: unpack positional arguments (the layout of
// native/core/contract.h) into plain core structs on the JS thread, then run the core. Typed arrays are read in
// place; an async call keeps references to every array it reads or writes until it settles, so the buffers stay
// alive, and Execute() never touches JS. Errors of the caller's input (modprop::Error) carry code MODPROP_INVALID so
// the TypeScript side can raise them as ModpropError; anything else is an internal error.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "binding.h"
#include "guard.h"
#include "job_worker.h"
#include "modprop.h"

namespace modprop {
namespace binding {

namespace {

// ---- thread pools -------------------------------------------------------------------------------------------------

// One pool per thread count, started on first use and kept: the count is an argument of every call (per call or per
// worker thread on the TypeScript side), so this cache holds no setting, only threads. Calls sharing a pool queue.
std::mutex gPoolsMutex;
std::map<int32_t, std::shared_ptr<ThreadPool>> gPools;

Napi::Error invalid(Napi::Env env, const std::string& message);

std::shared_ptr<ThreadPool> poolOf(Napi::Env env, int32_t threads) {
  if (threads < 1 || threads > kMaxThreads)
    throw invalid(env, "Expected an integer between 1 and " + std::to_string(kMaxThreads) + " for threads but received " +
                           std::to_string(threads));
  std::lock_guard<std::mutex> lock(gPoolsMutex);
  auto found = gPools.find(threads);
  if (found != gPools.end()) return found->second;
  std::shared_ptr<ThreadPool> pool;
  try {
    pool = std::make_shared<ThreadPool>(threads);
  } catch (const std::exception& e) {
    throw invalid(env, "Expected a thread count this system can start for threads but starting " +
                           std::to_string(threads) + " threads failed (" + e.what() + "); use fewer threads");
  }
  gPools.emplace(threads, pool);
  return pool;
}

// ---- errors -------------------------------------------------------------------------------------------------------

Napi::Error invalid(Napi::Env env, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, "MODPROP_INVALID"));
  return e;
}

// ---- argument unpacking -------------------------------------------------------------------------------------------

// The Int32Array / Float64Array headers: type and length checked, so no read past their end whatever JS sends.
template <typename Header>
Header headerArg(const Napi::CallbackInfo& cb, size_t index, size_t count, napi_typedarray_type type, const char* name) {
  if (cb.Length() <= index || !cb[index].IsTypedArray())
    throw invalid(cb.Env(), std::string("Expected a typed array for the native argument ") + name);
  Napi::TypedArray t = cb[index].As<Napi::TypedArray>();
  const char* typeName = type == napi_int32_array ? "an Int32Array" : "a Float64Array";
  if (t.TypedArrayType() != type) throw invalid(cb.Env(), std::string("Expected ") + typeName + " for the native argument " + name);
  if (t.ElementLength() != count)
    throw invalid(cb.Env(), std::string("Expected ") + std::to_string(count) + " entries for the native argument " + name +
                                " but received " + std::to_string(t.ElementLength()));
  return cb[index].As<Header>();
}

struct ArraySpec {
  const char* name;
  napi_typedarray_type type;
  int64_t length;
  bool optional;
};

// Checks one entry of the array list and returns its data pointer (null for an absent optional array).
void* arrayData(Napi::Env env, Napi::Array list, uint32_t index, const ArraySpec& spec, std::vector<Napi::ObjectReference>* keep) {
  Napi::Value v = list.Get(index);
  if (v.IsNull() || v.IsUndefined()) {
    if (spec.optional) return nullptr;
    throw invalid(env, std::string("Expected a typed array for ") + spec.name + " but received " +
                           (v.IsNull() ? "null" : "undefined"));
  }
  if (!v.IsTypedArray()) throw invalid(env, std::string("Expected a typed array for ") + spec.name);
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  if (t.TypedArrayType() != spec.type) throw invalid(env, std::string("Expected another typed array type for ") + spec.name);
  Napi::Value buffer = t.Get("buffer");
  if (buffer.IsArrayBuffer() && buffer.As<Napi::ArrayBuffer>().IsDetached())
    throw invalid(env, std::string("Expected a live (not detached) buffer for ") + spec.name);
  if (static_cast<int64_t>(t.ElementLength()) != spec.length)
    throw invalid(env, std::string("Expected length ") + std::to_string(spec.length) + " for " + spec.name +
                           " but received " + std::to_string(t.ElementLength()));
  // Straight from the typed array: works for ArrayBuffer and SharedArrayBuffer backing alike.
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type;
  napi_value backing;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, t, &type, &length, &data, &backing, &offset) != napi_ok)
    throw invalid(env, std::string("Expected a readable typed array for ") + spec.name);
  if (keep) keep->push_back(Napi::Persistent(t.As<Napi::Object>()));
  return data;
}

Dims dimsOf(Napi::Env env, const int32_t* ints) {
  Dims d{ints[kBatch], ints[kSteps], ints[kNIn], ints[kNRec], ints[kNOut], ints[kNTypes]};
  const int32_t all[] = {d.batch, d.steps, d.nIn, d.nRec, d.nOut, d.nTypes};
  for (int32_t v : all)
    if (v < 1) throw invalid(env, "Expected positive dimensions for the native call but received " + std::to_string(v));
  return d;
}

// Saturates instead of overflowing (three factors up to 2^31 exceed int64): a saturated length matches no array.
int64_t product(int64_t a, int64_t b, int64_t c = 1) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  if (a != 0 && b > max / a) return max;
  if (a * b != 0 && c > max / (a * b)) return max;
  return a * b * c;
}

// The neuron of the call and its constants (range-checked by the core's validateNeuron).
void spikingOf(const int32_t* ints, const double* fl, ModelView<float>& model) {
  model.neuron = static_cast<Neuron>(ints[kNeuronId]);
  model.spiking = SpikingConstants{fl[kRho], fl[kBeta], fl[kVth], fl[kDampening], fl[kKappa], ints[kRefractory]};
}

// Everything a gradient call needs, as plain data: built on the JS thread, read by the core on any thread.
struct GradientJob {
  Dims dims{};
  ModelView<float> model{};
  RuleSpec rule{};
  BatchView<float> batch{};
  GradView<float> grads{};
  std::shared_ptr<ThreadPool> pool;

  double run() { return gradients(dims, model, batch, rule, grads, *pool); }
};

GradientJob gradientJob(const Napi::CallbackInfo& cb, std::vector<Napi::ObjectReference>* keep) {
  Napi::Env env = cb.Env();
  Napi::Int32Array ints = headerArg<Napi::Int32Array>(cb, 0, kJobInts, napi_int32_array, "ints");
  Napi::Float64Array floats = headerArg<Napi::Float64Array>(cb, 1, kJobFloats, napi_float64_array, "floats");
  if (cb.Length() < 3 || !cb[2].IsArray() || cb[2].As<Napi::Array>().Length() != kGradientArrays)
    throw invalid(env, "Expected a list of " + std::to_string(kGradientArrays) + " arrays for the native argument arrays");
  Napi::Array list = cb[2].As<Napi::Array>();
  const int32_t* in = ints.Data();
  const double* fl = floats.Data();
  GradientJob job;
  job.dims = dimsOf(env, in);
  job.pool = poolOf(env, in[kThreads]);
  const Dims& d = job.dims;
  const int64_t B = d.batch, T = d.steps, I = d.nIn, N = d.nRec, K = d.nOut;
  const Loss loss = static_cast<Loss>(in[kLossId]);
  const ArraySpec specs[kGradientArrays] = {
      {"params.win", napi_float32_array, I * N, false},
      {"params.wrec", napi_float32_array, N * N, false},
      {"params.wout", napi_float32_array, N * K, false},
      {"params.bout", napi_float32_array, K, false},
      {"randomFeedback", napi_float32_array, N * K, true},
      {"types", napi_int32_array, N, false},
      {"batch.x", napi_float32_array, product(B, T, I), false},
      {"batch.labels", napi_int32_array, B, loss != Loss::XentLast},
      {"batch.targets", napi_float32_array, product(B, T, K), loss != Loss::Mse},
      {"grads.win", napi_float32_array, I * N, false},
      {"grads.wrec", napi_float32_array, N * N, false},
      {"grads.wout", napi_float32_array, N * K, false},
      {"grads.bout", napi_float32_array, K, false},
      {"mask", napi_uint8_array, N * N, true},
  };
  void* p[kGradientArrays];
  for (uint32_t i = 0; i < kGradientArrays; i++) p[i] = arrayData(env, list, i, specs[i], keep);
  job.model = ModelView<float>{static_cast<const float*>(p[kWin]), static_cast<const float*>(p[kWrec]),
                               static_cast<const float*>(p[kWout]), static_cast<const float*>(p[kBout]),
                               static_cast<const float*>(p[kRandomFeedback]), static_cast<const int32_t*>(p[kTypes]),
                               fl[kAlpha], fl[kThreshold], static_cast<const uint8_t*>(p[kMask])};
  spikingOf(in, fl, job.model);
  job.rule = RuleSpec{static_cast<Rule>(in[kRuleId]), static_cast<Feedback>(in[kFeedbackId]),
                      static_cast<LearningSignal>(in[kSignalId]), fl[kMu], in[kOnline] != 0, in[kWindow]};
  job.batch = BatchView<float>{static_cast<const float*>(p[kX]), static_cast<const int32_t*>(p[kLabels]),
                               static_cast<const float*>(p[kTargets]), loss};
  job.grads = GradView<float>{static_cast<float*>(p[kGradWin]), static_cast<float*>(p[kGradWrec]),
                              static_cast<float*>(p[kGradWout]), static_cast<float*>(p[kGradBout])};
  return job;
}

// ---- the calls ----------------------------------------------------------------------------------------------------

// gradients(ints, floats, arrays) → loss; writes the four gradient arrays in place.
Napi::Value gradientsSync(const Napi::CallbackInfo& cb) {
  GradientJob job = gradientJob(cb, nullptr);
  try {
    return Napi::Number::New(cb.Env(), job.run());
  } catch (const Error& e) {
    throw invalid(cb.Env(), e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(cb.Env(), std::string("modprop native engine: ") + e.what());
  }
}

// Runs a job (GradientJob or ForwardJob: plain data and a run() returning a number) on a libuv worker thread.
template <typename Job>
class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, const char* name, Job job, std::vector<Napi::ObjectReference> keep)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(job),
        keep_(std::move(keep)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      result_ = job_.run();
    } catch (const Error& e) {
      invalidInput_ = true;
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(std::string("modprop native engine: ") + e.what());
    }
  }

  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), result_)); }

  // When the environment is being torn down (a worker thread terminated mid-call), opening a handle scope or
  // settling the promise fails and node-addon-api throws from a callback that must not throw, which aborts the
  // whole process. There is nobody left to tell, so the result is dropped.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    try {
      Napi::AsyncWorker::OnWorkComplete(env, status);
    } catch (...) {
    }
  }

  void OnError(const Napi::Error& e) override {
    Napi::Error out = invalidInput_ ? invalid(Env(), e.Message()) : Napi::Error::New(Env(), e.Message());
    deferred_.Reject(out.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Job job_;
  std::vector<Napi::ObjectReference> keep_;  // the typed arrays the job points into
  double result_ = 0;
  bool invalidInput_ = false;
};

template <typename Job>
Napi::Value queue(Napi::Env env, const char* name, Job job, std::vector<Napi::ObjectReference> keep) {
  auto* worker = new KernelWorker<Job>(env, name, job, std::move(keep));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// gradientsAsync(ints, floats, arrays) → Promise<loss>; the same job on a libuv worker thread.
Napi::Value gradientsAsync(const Napi::CallbackInfo& cb) {
  std::vector<Napi::ObjectReference> keep;
  GradientJob job = gradientJob(cb, &keep);
  return queue(cb.Env(), "modprop.gradients", job, std::move(keep));
}

// trainStepAsync(ints, floats, arrays, stepFloats, params, grads, m, v, types, typeSigns, nOut) → Promise<[loss,
// status, matrix, index, message]>: one training iteration of train() on one libuv worker, the gradient call of
// gradientsAsync and then, when its loss is finite, the optimizer step of optimizerStep on the same parameters, with
// no trip to the JS thread between the two and no copy (train owns the parameters, the batch and the gradient
// buffers while the call runs). status: 0 stepped, 1 non-finite gradient and 2 non-finite new parameter (as
// optimizerStep; the parameters are as before), 3 non-finite loss (no step), 4 the gradient call refused its input
// (message: the core's modprop::Error, raised as ModpropError by lib/trainStep.ts).
// An optional 12th argument, [state, bits, bump, x, steps, baseline, noise] (delayedXorFast's), draws the next
// iteration's batch into x within the same job: a pool thread that finishes its chunk of the gradient first draws it
// (ThreadPool::HostedWork), instead of a separate libuv job that would take a core from the gradient (issue 13). The
// draw is the serial stream of delayedXorFast, so its numbers do not depend on where it runs; it has always
// completed when the promise settles, whatever the status.
struct TrainStepJob {
  GradientJob gradient;
  optimizer::StepJob step;
  bool drawing = false;
  sampler::DelayedXorJob draw{};
  double loss = 0;
  optimizer::StepResult outcome{};
  int32_t status = 0;
  std::string message;

  void run() {
    ThreadPool::HostedWork next(drawing ? std::function<void()>([this] { sampler::delayedXor(draw); }) : nullptr);
    iterate();
    next.finish();
  }

  void iterate() {
    try {
      loss = gradient.run();
    } catch (const Error& e) {
      status = 4;
      message = e.what();
      return;
    }
    if (!std::isfinite(loss)) {
      status = 3;
      return;
    }
    outcome = optimizer::step(step);
    status = static_cast<int32_t>(outcome.status);
  }

  Napi::Value result(Napi::Env env) const {
    Napi::Array out = Napi::Array::New(env, 5);
    out.Set(0u, Napi::Number::New(env, loss));
    out.Set(1u, Napi::Number::New(env, status));
    out.Set(2u, Napi::Number::New(env, outcome.matrix));
    out.Set(3u, Napi::Number::New(env, static_cast<double>(outcome.index)));
    out.Set(4u, Napi::String::New(env, message));
    return out;
  }
};

Napi::Value trainStepAsync(const Napi::CallbackInfo& cb) {
  std::vector<Napi::ObjectReference> keep;
  TrainStepJob job;
  job.gradient = gradientJob(cb, &keep);
  job.step = optimizerStepJob(cb, 3, &keep);
  // The step must update the very arrays the gradient read and wrote, or the iteration would be two unrelated calls.
  const void* gradientSide[2][optimizer::kParams] = {
      {job.gradient.model.win, job.gradient.model.wrec, job.gradient.model.wout, job.gradient.model.bout},
      {job.gradient.grads.win, job.gradient.grads.wrec, job.gradient.grads.wout, job.gradient.grads.bout}};
  for (int k = 0; k < optimizer::kParams; k++) {
    if (gradientSide[0][k] != job.step.w[k] || gradientSide[1][k] != job.step.g[k])
      throw invalid(cb.Env(), "Expected the same parameter and gradient arrays for the gradient call and the optimizer step (entry " +
                                  std::to_string(k) + ")");
  }
  if (job.step.types != job.gradient.model.types)
    throw invalid(cb.Env(), "Expected the same types array for the gradient call and the optimizer step");
  if (cb.Length() > 11 && !cb[11].IsUndefined()) {
    if (!cb[11].IsArray()) throw invalid(cb.Env(), "Expected an array of delayedXorFast's arguments or undefined for the draw (argument 12)");
    // Every array the gradient and the step read or write is in `keep` by now; the draw writes x meanwhile, so x
    // must share no byte with any of them.
    const size_t callArrays = keep.size();
    job.draw = delayedXorJobOf(cb.Env(), cb[11].As<Napi::Array>(), &keep);
    job.drawing = true;
    const char* lo = reinterpret_cast<const char*>(job.draw.x);
    const char* hi = lo + job.draw.batch * job.draw.steps * 2 * sizeof(float);
    for (size_t i = 0; i < callArrays; i++) {
      Napi::TypedArray t = keep[i].Value().As<Napi::TypedArray>();
      const char* b = static_cast<const char*>(t.ArrayBuffer().Data()) + t.ByteOffset();
      if (b < hi && lo < b + t.ByteLength())
        throw invalid(cb.Env(), "Expected the draw's x to share no memory with the batch, the parameters or the gradients of the iteration");
    }
  }
  return JobWorker<TrainStepJob>::queue(cb.Env(), "modprop.trainStep", std::move(job), std::move(keep));
}

struct ForwardJob {
  Dims dims{};
  ModelView<float> model{};
  const float* x = nullptr;
  float* v = nullptr;
  float* z = nullptr;
  float* y = nullptr;
  std::shared_ptr<ThreadPool> pool;

  double run() {
    forward(dims, model, x, v, z, y, *pool);
    return 0;
  }
};

ForwardJob forwardJob(const Napi::CallbackInfo& cb, std::vector<Napi::ObjectReference>* keep) {
  Napi::Env env = cb.Env();
  Napi::Int32Array ints = headerArg<Napi::Int32Array>(cb, 0, kJobInts, napi_int32_array, "ints");
  Napi::Float64Array floats = headerArg<Napi::Float64Array>(cb, 1, kJobFloats, napi_float64_array, "floats");
  if (cb.Length() < 3 || !cb[2].IsArray() || cb[2].As<Napi::Array>().Length() != kForwardArrays)
    throw invalid(env, "Expected a list of " + std::to_string(kForwardArrays) + " arrays for the native argument arrays");
  Napi::Array list = cb[2].As<Napi::Array>();
  ForwardJob job;
  job.dims = dimsOf(env, ints.Data());
  job.pool = poolOf(env, ints.Data()[kThreads]);
  const int64_t B = job.dims.batch, T = job.dims.steps, I = job.dims.nIn, N = job.dims.nRec, K = job.dims.nOut;
  const ArraySpec specs[kForwardArrays] = {
      {"params.win", napi_float32_array, I * N, false},  {"params.wrec", napi_float32_array, N * N, false},
      {"params.wout", napi_float32_array, N * K, false}, {"params.bout", napi_float32_array, K, false},
      {"batch.x", napi_float32_array, product(B, T, I), false}, {"v", napi_float32_array, product(B, T, N), true},
      {"z", napi_float32_array, product(B, T, N), true},        {"y", napi_float32_array, product(B, T, K), false},
      {"mask", napi_uint8_array, N * N, true},
  };
  void* p[kForwardArrays];
  for (uint32_t i = 0; i < kForwardArrays; i++) p[i] = arrayData(env, list, i, specs[i], keep);
  const double* fl = floats.Data();
  job.model = ModelView<float>{static_cast<const float*>(p[kFwdWin]), static_cast<const float*>(p[kFwdWrec]),
                               static_cast<const float*>(p[kFwdWout]), static_cast<const float*>(p[kFwdBout]),
                               nullptr, nullptr, fl[kAlpha], fl[kThreshold], static_cast<const uint8_t*>(p[kFwdMask])};
  spikingOf(ints.Data(), fl, job.model);
  job.x = static_cast<const float*>(p[kFwdX]);
  job.v = static_cast<float*>(p[kFwdV]);
  job.z = static_cast<float*>(p[kFwdZ]);
  job.y = static_cast<float*>(p[kFwdY]);
  return job;
}

// forward(ints, floats, arrays) → undefined; writes v, z, y in place (v and z may both be null: y alone, as for
// train's evaluations, lib/trainEval.ts).
Napi::Value forwardSync(const Napi::CallbackInfo& cb) {
  ForwardJob job = forwardJob(cb, nullptr);
  try {
    job.run();
  } catch (const Error& e) {
    throw invalid(cb.Env(), e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(cb.Env(), std::string("modprop native engine: ") + e.what());
  }
  return cb.Env().Undefined();
}

// forwardAsync(ints, floats, arrays) → Promise<0>: the same job on a libuv worker thread (evaluation during training
// must not block the event loop).
Napi::Value forwardAsync(const Napi::CallbackInfo& cb) {
  std::vector<Napi::ObjectReference> keep;
  ForwardJob job = forwardJob(cb, &keep);
  return queue(cb.Env(), "modprop.forward", job, std::move(keep));
}

std::string describeNumber(const Napi::CallbackInfo& cb) {
  if (cb.Length() < 1) return "nothing";
  if (!cb[0].IsNumber()) return "a value of another type";
  std::ostringstream o;
  o.precision(17);
  o << cb[0].As<Napi::Number>().DoubleValue();
  return o.str();
}

// setThreads(n): starts the pool of n threads now, so that a count the system cannot serve is an error here rather
// than in the first call. It sets nothing: every call names its own thread count.
Napi::Value setThreads(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  const double n = cb.Length() < 1 || !cb[0].IsNumber() ? NAN : cb[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= kMaxThreads && n == static_cast<double>(static_cast<int32_t>(n))))
    throw invalid(env, "Expected an integer between 1 and " + std::to_string(kMaxThreads) + " for threads but received " +
                           describeNumber(cb));
  poolOf(env, static_cast<int32_t>(n));
  return env.Undefined();
}

}  // namespace

std::shared_ptr<ThreadPool> sharedPool(Napi::Env env, int32_t threads) { return poolOf(env, threads); }
Napi::Error invalidInput(Napi::Env env, const std::string& message) { return invalid(env, message); }

void registerKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("forward", guardedFunction<forwardSync>(env, "forward"));
  exports.Set("forwardAsync", guardedFunction<forwardAsync>(env, "forwardAsync"));
  exports.Set("gradients", guardedFunction<gradientsSync>(env, "gradients"));
  exports.Set("gradientsAsync", guardedFunction<gradientsAsync>(env, "gradientsAsync"));
  exports.Set("setThreads", guardedFunction<setThreads>(env, "setThreads"));
  exports.Set("trainStepAsync", guardedFunction<trainStepAsync>(env, "trainStepAsync"));
  // trainStepAsync takes the next batch's draw (argument 12): an addon without this flag would ignore it.
  exports.Set("trainStepDraws", Napi::Boolean::New(env, true));
}

}  // namespace binding
}  // namespace modprop
