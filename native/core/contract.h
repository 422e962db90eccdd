// The ids shared with TypeScript. Each table below is ONE X-macro list from which both the C++ enum and its name
// table are built, so an enum value cannot drift from its name (inserting a field renumbers both together).
// lib/contract.ts and the rule registry lib/rules.ts hold the same names and numbers: the addon exports these tables
// as `contract` and the TypeScript loader refuses it when they disagree, and test/unit/contract.test.ts reads this
// file and fails when a list differs from the TypeScript tables. Change both sides together.
#pragma once
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace modprop {

constexpr int32_t kAbiVersion = 2;  // 2: the neuron and its constants joined the call

struct NamedId {
  const char* name;
  int32_t id;
};

// X(Enumerator, "name", id, exact, online, native, feedback): ids are explicit because they are the contract (never
// renumber one); the traits are the rule registry's (lib/rules.ts `exact`, `online`, `engines`, the `feedback`
// option), which test/unit/contract.test.ts compares.
#define MODPROP_RULES(X)                \
  X(Bptt, "bptt", 0, 1, 0, 1, 0)        \
  X(Tbptt, "tbptt", 1, 1, 0, 1, 0)      \
  X(Rtrl, "rtrl", 2, 1, 0, 0, 0)        \
  X(Eprop, "eprop", 3, 0, 1, 1, 0)      \
  X(Mdgl, "mdgl", 4, 0, 0, 1, 1)        \
  X(Modprop, "modprop", 5, 0, 1, 1, 1)  \
  X(Rflo, "rflo", 6, 0, 1, 1, 0)
#define MODPROP_LOSSES(X) X(XentLast, "xent-last", 0) X(Mse, "mse", 1)
#define MODPROP_FEEDBACK(X) X(Type, "type", 0) X(Cell, "cell", 1)
#define MODPROP_LEARNING_SIGNALS(X) X(Symmetric, "symmetric", 0) X(Random, "random", 1)
// The neuron model (lib/neurons/neuron.ts NEURON_NAMES): rate is SPEC §1's leaky ReLU unit, lif/alif are spiking.
#define MODPROP_NEURONS(X) X(Rate, "rate", 0) X(Lif, "lif", 1) X(Alif, "alif", 2)

#define MODPROP_ENUMERATOR(e, name, id) e = id,
#define MODPROP_NAMED(e, name, id) {name, id},
#define MODPROP_RULE_ENUMERATOR(e, name, id, exact, online, native, feedback) e = id,
#define MODPROP_RULE_NAMED(e, name, id, exact, online, native, feedback) {name, id},
#define MODPROP_RULE_TRAITS(e, name, id, exact, online, native, feedback) {name, id, exact != 0, online != 0, native != 0, feedback != 0},
enum class Rule : int32_t { MODPROP_RULES(MODPROP_RULE_ENUMERATOR) };
enum class Loss : int32_t { MODPROP_LOSSES(MODPROP_ENUMERATOR) };
enum class Feedback : int32_t { MODPROP_FEEDBACK(MODPROP_ENUMERATOR) };
enum class LearningSignal : int32_t { MODPROP_LEARNING_SIGNALS(MODPROP_ENUMERATOR) };
enum class Neuron : int32_t { MODPROP_NEURONS(MODPROP_ENUMERATOR) };
inline constexpr NamedId kRuleNames[] = {MODPROP_RULES(MODPROP_RULE_NAMED)};

// What validation and the dispatcher need to know of a rule, from the same list (indexed by id).
struct RuleTraits {
  const char* name;
  int32_t id;
  bool exact;   // dE/dθ: the output error always feeds back through Wout
  bool online;  // has a forward-in-time form (ModProp's needs type feedback, checked in validateRule)
  bool native;  // implemented by this engine (rtrl is reference-only)
  bool feedback;  // takes the feedback option: recurrent credit through Wrec or its type average (Wfb)
};
inline constexpr RuleTraits kRules[] = {MODPROP_RULES(MODPROP_RULE_TRAITS)};
inline constexpr int32_t kRuleCount = int32_t(sizeof(kRules) / sizeof(kRules[0]));
inline constexpr NamedId kLossNames[] = {MODPROP_LOSSES(MODPROP_NAMED)};
inline constexpr NamedId kFeedbackNames[] = {MODPROP_FEEDBACK(MODPROP_NAMED)};
inline constexpr NamedId kLearningSignalNames[] = {MODPROP_LEARNING_SIGNALS(MODPROP_NAMED)};
inline constexpr NamedId kNeuronNames[] = {MODPROP_NEURONS(MODPROP_NAMED)};

// Positional layout of a native call: the binding reads integers, floats and arrays by these indices, never by
// string keys, and the TypeScript side builds its arguments from the same tables (checked at load). X(enumerator,
// "name"): the position in the list is the index, for the enum and its name alike. The neuron and its constants
// (lib/neurons/neuron.ts SpikingConstants; α is kAlpha, the membrane decay of a spiking network) are read only when
// kNeuronId is not rate.
#define MODPROP_JOB_INTS(X)                                                                                       \
  X(kBatch, "batch") X(kSteps, "steps") X(kNIn, "nIn") X(kNRec, "nRec") X(kNOut, "nOut") X(kNTypes, "nTypes")      \
  X(kRuleId, "rule") X(kFeedbackId, "feedback") X(kSignalId, "learningSignal") X(kOnline, "online")                \
  X(kWindow, "window") X(kLossId, "loss") X(kThreads, "threads") X(kNeuronId, "neuron") X(kRefractory, "refractory")
#define MODPROP_JOB_FLOATS(X)                                                                                     \
  X(kAlpha, "alpha") X(kThreshold, "threshold") X(kMu, "mu") X(kRho, "rho") X(kBeta, "beta") X(kVth, "vth")        \
  X(kDampening, "dampening") X(kKappa, "kappa")
#define MODPROP_GRADIENT_ARRAYS(X)                                                                               \
  X(kWin, "win") X(kWrec, "wrec") X(kWout, "wout") X(kBout, "bout") X(kRandomFeedback, "randomFeedback")          \
  X(kTypes, "types") X(kX, "x") X(kLabels, "labels") X(kTargets, "targets") X(kGradWin, "gradWin")                \
  X(kGradWrec, "gradWrec") X(kGradWout, "gradWout") X(kGradBout, "gradBout") X(kMask, "mask")
#define MODPROP_FORWARD_ARRAYS(X)                                                                                 \
  X(kFwdWin, "win") X(kFwdWrec, "wrec") X(kFwdWout, "wout") X(kFwdBout, "bout") X(kFwdX, "x") X(kFwdV, "v")        \
  X(kFwdZ, "z") X(kFwdY, "y") X(kFwdMask, "mask")

#define MODPROP_POSITION(e, name) e,
#define MODPROP_POSITION_NAMED(e, name) {name, e},
enum JobInt : int32_t { MODPROP_JOB_INTS(MODPROP_POSITION) kJobInts };
enum JobFloat : int32_t { MODPROP_JOB_FLOATS(MODPROP_POSITION) kJobFloats };
enum GradientArray : int32_t { MODPROP_GRADIENT_ARRAYS(MODPROP_POSITION) kGradientArrays };
enum ForwardArray : int32_t { MODPROP_FORWARD_ARRAYS(MODPROP_POSITION) kForwardArrays };
inline constexpr NamedId kJobIntNames[] = {MODPROP_JOB_INTS(MODPROP_POSITION_NAMED)};
inline constexpr NamedId kJobFloatNames[] = {MODPROP_JOB_FLOATS(MODPROP_POSITION_NAMED)};
inline constexpr NamedId kGradientArrayNames[] = {MODPROP_GRADIENT_ARRAYS(MODPROP_POSITION_NAMED)};
inline constexpr NamedId kForwardArrayNames[] = {MODPROP_FORWARD_ARRAYS(MODPROP_POSITION_NAMED)};
#undef MODPROP_ENUMERATOR
#undef MODPROP_NAMED
#undef MODPROP_RULE_ENUMERATOR
#undef MODPROP_RULE_NAMED
#undef MODPROP_RULE_TRAITS
#undef MODPROP_POSITION
#undef MODPROP_POSITION_NAMED

// Every name table covers its whole enum, and each entry sits at its own id (so lookups by id are direct).
template <std::size_t N>
constexpr bool densePositions(const NamedId (&names)[N]) {
  for (std::size_t i = 0; i < N; i++)
    if (names[i].id != int32_t(i)) return false;
  return true;
}
static_assert(std::size(kJobIntNames) == kJobInts && densePositions(kJobIntNames), "job ints and their names differ");
static_assert(std::size(kJobFloatNames) == kJobFloats && densePositions(kJobFloatNames), "job floats differ");
static_assert(std::size(kGradientArrayNames) == kGradientArrays && densePositions(kGradientArrayNames), "arrays differ");
static_assert(std::size(kForwardArrayNames) == kForwardArrays && densePositions(kForwardArrayNames), "arrays differ");
static_assert(densePositions(kRuleNames) && densePositions(kLossNames) && densePositions(kFeedbackNames) &&
                  densePositions(kLearningSignalNames) && densePositions(kNeuronNames),
              "enum ids are 0..n-1 in list order (the binding range-checks ids by the table's size)");

// Threads of one call (kThreads): the binding accepts 1..kMaxThreads; the TypeScript side clamps to the CPUs it may use.
constexpr int32_t kMaxThreads = 1024;

}  // namespace modprop
