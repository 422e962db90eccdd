// What each binding file adds to the module's exports. Every file under native/binding/ registers its own members
// here, so addon.cc stays a list and the kernel bindings can sit beside contract.cc and info.cc.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "optimizer.h"
#include "sampler.h"
#include "thread_pool.h"

namespace modprop {
namespace binding {

// `contract`: the enum ids of native/core/contract.h, compared by lib/native/addon.ts with lib/contract.ts.
void registerContract(Napi::Env env, Napi::Object exports);

// `info()`: the float kernels selected at run time (SIMD level), how this binary was built (compiler, portable build)
// and the machine's thread count.
void registerInfo(Napi::Env env, Napi::Object exports);

// forward, gradients, gradientsAsync, setThreads: the core kernels behind the positional layout of
// contract.h.
void registerKernels(Napi::Env env, Napi::Object exports);

// krylovCycle, krylovCycleAsync, krylovRestart, nonsymmetricEigen: lib/spectralRadius.ts's Arnoldi iteration (spectral.cc).
void registerSpectral(Napi::Env env, Napi::Object exports);

// adviseHugePages: transparent huge pages for a large fresh typed array (memory.cc).
void registerMemory(Napi::Env env, Napi::Object exports);

// The pool of that many threads shared by every entry point (kernels.cc), and an error of the caller's input
// (code MODPROP_INVALID, raised as ModpropError by lib/native).
std::shared_ptr<ThreadPool> sharedPool(Napi::Env env, int32_t threads);
Napi::Error invalidInput(Napi::Env env, const std::string& message);

// delayedXorFast(Async), fastNormals, samplerMath: the tasks' 'fast' sampler (native/core/sampler.h).
void registerSampler(Napi::Env env, Napi::Object exports);

// A delayed-XOR draw from its arguments [state, bits, bump, x, steps, baseline, noise] (delayedXorFast's, in a JS
// array): checked as delayedXorFast checks them; the typed arrays are kept alive through `keep`.
sampler::DelayedXorJob delayedXorJobOf(Napi::Env env, const Napi::Array& args, std::vector<Napi::ObjectReference>* keep);

// optimizerStep(Async): train()'s L2, Adam/SGD, projection and finiteness checks (native/core/optimizer.h).
void registerOptimizer(Napi::Env env, Napi::Object exports);
// The step of optimizerStep's arguments (floats, params, grads, m, v, types, typeSigns, nOut) read from cb[at]
// onwards, checked as optimizerStep checks them (trainStepAsync in kernels.cc reads its step this way).
optimizer::StepJob optimizerStepJob(const Napi::CallbackInfo& cb, size_t at, std::vector<Napi::ObjectReference>* keep);

// firstNonFiniteAsync: the finiteness check of forward results off the JS thread (lib/resultChecks.ts).
void registerFinite(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace modprop
