// Built from the tables in native/core/contract.h rather than written out again, so the addon reports exactly the
// ids the kernels use; lib/native/addon.ts refuses the addon when they differ from lib/contract.ts.
#include "contract.h"

#include <cstddef>

#include "binding.h"

namespace modprop {
namespace binding {

namespace {

template <std::size_t N>
Napi::Object table(Napi::Env env, const NamedId (&names)[N]) {
  Napi::Object out = Napi::Object::New(env);
  for (const NamedId& n : names) out.Set(n.name, Napi::Number::New(env, n.id));
  return out;
}

}  // namespace

void registerContract(Napi::Env env, Napi::Object exports) {
  Napi::Object contract = Napi::Object::New(env);
  contract.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  contract.Set("rules", table(env, kRuleNames));
  contract.Set("losses", table(env, kLossNames));
  contract.Set("feedback", table(env, kFeedbackNames));
  contract.Set("learningSignals", table(env, kLearningSignalNames));
  contract.Set("neurons", table(env, kNeuronNames));
  contract.Set("jobInts", table(env, kJobIntNames));
  contract.Set("jobFloats", table(env, kJobFloatNames));
  contract.Set("gradientArrays", table(env, kGradientArrayNames));
  contract.Set("forwardArrays", table(env, kForwardArrayNames));
  contract.Freeze();
  exports.Set("contract", contract);
}

}  // namespace binding
}  // namespace modprop
