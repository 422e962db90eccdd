// The module entry point. Node-API code lives only under native/binding/; native/core/ knows nothing of Node.
#include "binding.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  modprop::binding::registerContract(env, exports);
  modprop::binding::registerInfo(env, exports);
  modprop::binding::registerKernels(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(modprop, init)
