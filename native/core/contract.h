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

}  // namespace modprop
