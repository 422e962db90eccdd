// The module entry point. Node-API code lives only under native/binding/; native/core/ knows nothing of Node.
#include <exception>
#include <string>

#include "binding.h"
#include "guard.h"

namespace {

// Not NODE_API_MODULE: its wrapper rethrows from a C callback when a worker thread is terminated while it loads the
// addon (see guard.h), so the registration is guarded like every other entry point.
napi_value init(napi_env rawEnv, napi_value rawExports) noexcept {
  try {
    Napi::Env env(rawEnv);
    Napi::Object exports(rawEnv, rawExports);
    modprop::binding::registerContract(env, exports);
    modprop::binding::registerInfo(env, exports);
    modprop::binding::registerKernels(env, exports);
    modprop::binding::registerSpectral(env, exports);
    modprop::binding::registerSampler(env, exports);
    modprop::binding::registerOptimizer(env, exports);
    modprop::binding::registerFinite(env, exports);
    modprop::binding::registerMemory(env, exports);
    return rawExports;
  } catch (const Napi::Error& e) {
    modprop::binding::reportOrDrop(e);
  } catch (const std::exception& e) {
    modprop::binding::reportOrDrop(rawEnv, std::string("modprop native engine: ") + e.what());
  } catch (...) {
    modprop::binding::reportOrDrop(rawEnv, "modprop native engine: unknown error while loading");
  }
  return nullptr;
}

}  // namespace

NAPI_MODULE(modprop, init)
