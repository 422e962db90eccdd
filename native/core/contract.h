// The enum ids shared with TypeScript. lib/contract.ts holds the same numbers; the addon exports this table as
// `contract` and the TypeScript loader refuses the addon when they disagree. Change both together.
#pragma once
#include <cstdint>

namespace modprop {

constexpr int32_t kAbiVersion = 1;

enum class Rule : int32_t { Bptt = 0, Tbptt = 1, Rtrl = 2, Eprop = 3, Mdgl = 4, Modprop = 5 };
enum class Loss : int32_t { XentLast = 0, Mse = 1 };
enum class Feedback : int32_t { Type = 0, Cell = 1 };
enum class LearningSignal : int32_t { Symmetric = 0, Random = 1 };

struct NamedId {
  const char* name;
  int32_t id;
};

inline constexpr NamedId kRuleNames[] = {{"bptt", 0}, {"tbptt", 1}, {"rtrl", 2},
                                         {"eprop", 3}, {"mdgl", 4},  {"modprop", 5}};
inline constexpr NamedId kLossNames[] = {{"xent-last", 0}, {"mse", 1}};
inline constexpr NamedId kFeedbackNames[] = {{"type", 0}, {"cell", 1}};
inline constexpr NamedId kLearningSignalNames[] = {{"symmetric", 0}, {"random", 1}};

// Positional layout of a native call: the binding reads integers, floats and arrays by these indices, never by
// string keys, and the TypeScript side builds its arguments from the same tables (checked at load).
enum JobInt : int32_t { kBatch, kSteps, kNIn, kNRec, kNOut, kNTypes, kRuleId, kFeedbackId, kSignalId, kOnline, kWindow, kLossId, kThreads, kJobInts };
enum JobFloat : int32_t { kAlpha, kThreshold, kMu, kJobFloats };
enum GradientArray : int32_t { kWin, kWrec, kWout, kBout, kRandomFeedback, kTypes, kX, kLabels, kTargets,
                               kGradWin, kGradWrec, kGradWout, kGradBout, kGradientArrays };
// Threads of one call (kThreads): the binding accepts 1..kMaxThreads; the TypeScript side clamps to the CPUs it may use.
constexpr int32_t kMaxThreads = 1024;
enum ForwardArray : int32_t { kFwdWin, kFwdWrec, kFwdWout, kFwdBout, kFwdX, kFwdV, kFwdZ, kFwdY, kForwardArrays };

inline constexpr NamedId kJobIntNames[] = {{"batch", 0}, {"steps", 1}, {"nIn", 2}, {"nRec", 3}, {"nOut", 4},
                                           {"nTypes", 5}, {"rule", 6}, {"feedback", 7}, {"learningSignal", 8},
                                           {"online", 9}, {"window", 10}, {"loss", 11}, {"threads", 12}};
inline constexpr NamedId kJobFloatNames[] = {{"alpha", 0}, {"threshold", 1}, {"mu", 2}};
inline constexpr NamedId kGradientArrayNames[] = {
    {"win", 0},     {"wrec", 1},    {"wout", 2},     {"bout", 3},      {"randomFeedback", 4}, {"types", 5}, {"x", 6},
    {"labels", 7},  {"targets", 8}, {"gradWin", 9},  {"gradWrec", 10}, {"gradWout", 11},      {"gradBout", 12}};
inline constexpr NamedId kForwardArrayNames[] = {{"win", 0}, {"wrec", 1}, {"wout", 2}, {"bout", 3},
                                                 {"x", 4},   {"v", 5},    {"z", 6},    {"y", 7}};

}  // namespace modprop
