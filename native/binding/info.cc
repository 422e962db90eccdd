// Facts about the build, for `modprop info` and bug reports. `simd` is the level of the float kernels selected at
// run time (the CPU's best, or lower under MODPROP_SIMD), whatever flags the addon was compiled with.
#include <algorithm>
#include <string>
#include <thread>

#include "binding.h"
#include "guard.h"
#include "kernels.h"

namespace modprop {
namespace binding {

namespace {

std::string compilerName() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#elif defined(_MSC_VER)
  return "msvc " + std::to_string(_MSC_FULL_VER);
#else
  return "unknown";
#endif
}

#if defined(MODPROP_PORTABLE) && MODPROP_PORTABLE
constexpr bool kPortable = true;
#else
constexpr bool kPortable = false;
#endif

Napi::Value info(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("simd", kernels::simdName(kernels::simdLevel()));
  // hardware_concurrency() may answer 0 ("unknown"); one thread is the honest lower bound.
  out.Set("hardwareThreads", Napi::Number::New(env, std::max(1u, std::thread::hardware_concurrency())));
  out.Set("compiler", compilerName());
  out.Set("portable", Napi::Boolean::New(env, kPortable));
  return out;
}

}  // namespace

void registerInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("info", guardedFunction<info>(env, "info"));
}

}  // namespace binding
}  // namespace modprop
