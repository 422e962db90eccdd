// What a caller passed, for "Expected <what> for <name> but received <value>" messages of the raw bindings:
// "a Float32Array of length 7", "-1", "undefined", "an array of length 3", "a string", "an object".
#pragma once
#include <napi.h>

#include <string>

namespace modprop {
namespace binding {

inline std::string describeValue(const Napi::Value& v) {
  if (v.IsTypedArray()) {
    static const char* const kNames[] = {"Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
                                         "Int32Array", "Uint32Array", "Float32Array", "Float64Array",
                                         "BigInt64Array", "BigUint64Array"};
    const auto t = static_cast<size_t>(v.As<Napi::TypedArray>().TypedArrayType());
    const std::string name = t < sizeof(kNames) / sizeof(kNames[0]) ? kNames[t] : "typed array";
    return "a " + name + " of length " + std::to_string(v.As<Napi::TypedArray>().ElementLength());
  }
  if (v.IsArray()) return "an array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsNumber() || v.IsBoolean() || v.IsUndefined() || v.IsNull()) return v.ToString().Utf8Value();
  return v.IsString() ? "a string" : "an object";
}

// An input error of a raw binding: code MODPROP_INVALID, which the TypeScript side raises as ModpropError.
inline Napi::Error invalidArgument(Napi::Env env, const std::string& what, const std::string& name, const Napi::Value& got) {
  Napi::Error e = Napi::Error::New(env, "Expected " + what + " for " + name + " but received " + describeValue(got));
  e.Set("code", Napi::String::New(env, "MODPROP_INVALID"));
  return e;
}

}  // namespace binding
}  // namespace modprop
