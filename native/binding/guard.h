// Entry points that never let a C++ exception escape into Node. node-addon-api's own wrapper turns a thrown
// Napi::Error into a JS exception, but when the environment is being torn down (a worker thread terminated while it
// was inside our call) every Node-API call fails: the arguments cannot be read, the JS exception cannot be thrown,
// and node-addon-api throws a fresh Napi::Error from inside its catch block — out of a C callback, which is
// std::terminate for the whole process. Here a failure to report an error is swallowed: nobody is left to tell.
#pragma once
#include <napi.h>

#include <exception>
#include <string>

namespace modprop {
namespace binding {

using Entry = Napi::Value (*)(const Napi::CallbackInfo&);

// Throws `error` into JS if the environment still can run JS; otherwise drops it.
inline void reportOrDrop(const Napi::Error& error) noexcept {
  try {
    error.ThrowAsJavaScriptException();
  } catch (...) {
  }
}

inline void reportOrDrop(napi_env env, const std::string& message) noexcept {
  try {
    Napi::Error::New(env, message).ThrowAsJavaScriptException();
  } catch (...) {
  }
}

template <Entry F>
napi_value guarded(napi_env env, napi_callback_info info) noexcept {
  try {
    Napi::CallbackInfo cb(env, info);
    Napi::Value out = F(cb);
    return out;
  } catch (const Napi::Error& e) {
    reportOrDrop(e);
  } catch (const std::exception& e) {
    reportOrDrop(env, std::string("modprop native engine: ") + e.what());
  } catch (...) {
    reportOrDrop(env, "modprop native engine: unknown internal error");
  }
  return nullptr;
}

// A JS function named `name` that calls F through `guarded`.
template <Entry F>
Napi::Function guardedFunction(Napi::Env env, const char* name) {
  napi_value fn = nullptr;
  napi_status status = napi_create_function(env, name, NAPI_AUTO_LENGTH, guarded<F>, nullptr, &fn);
  NAPI_THROW_IF_FAILED(env, status, Napi::Function());
  return Napi::Function(env, fn);
}

}  // namespace binding
}  // namespace modprop
