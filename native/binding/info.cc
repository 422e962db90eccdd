// Facts about the build, for `modprop info` and bug reports. The SIMD level is what the compiler was allowed to
// emit (-march=native, or the baseline of a MODPROP_PORTABLE build), not what the CPU could do.
#include <algorithm>
#include <string>
#include <thread>

#include "binding.h"

namespace modprop {
namespace binding {

namespace {

const char* simdLevel() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
  return "sse2";
#elif defined(__ARM_NEON) || defined(__ARM_NEON__) || defined(_M_ARM64)
  return "neon";
#else
  return "scalar";
#endif
}

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
  out.Set("simd", simdLevel());
  // hardware_concurrency() may answer 0 ("unknown"); one thread is the honest lower bound.
  out.Set("hardwareThreads", Napi::Number::New(env, std::max(1u, std::thread::hardware_concurrency())));
  out.Set("compiler", compilerName());
  out.Set("portable", Napi::Boolean::New(env, kPortable));
  return out;
}

}  // namespace

void registerInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, info, "info"));
}

}  // namespace binding
}  // namespace modprop
