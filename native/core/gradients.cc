// SPEC §3–4: the one entry point for every rule. Validates the call, derives what the rule needs once, splits the
// batch into min(threads, B) chunks with their own accumulators, and reduces them in chunk order so that a given
// thread count always gives bit-identical results.
#include <algorithm>
#include <cmath>
#include <functional>
#include <new>
#include <sstream>
#include <type_traits>

#include "column_split.h"
#include "filter_stability.h"
#include "modprop_modal.h"
#include "modprop_online.h"
#include "retained.h"
#include "rules.h"
#include "spiking.h"

namespace modprop {

namespace {

bool usesTypes(const RuleSpec& r) {
  const int32_t id = static_cast<int32_t>(r.rule);
  return id >= 0 && id < kRuleCount && kRules[id].feedback && r.feedback == Feedback::Type;
}

std::string num(double v, int precision) {
  std::ostringstream o;
  o.precision(precision);
  o << v;
  return o.str();
}

// Online ModProp with type feedback, lib/filter.ts checkOnlineFilterCost for callers of the raw addon. The direct
// form (modprop_online.cc): B·(N+I)·T·C³ multiply-adds per call and B·(N+I)·C² numbers of state.
void checkDirectFilterCost(const Dims& dims, const std::string& why) {
  const double units = double(dims.batch) * (double(dims.nRec) + dims.nIn), rows = units * dims.steps;
  const double c = dims.nTypes;
  constexpr double kOnlineFilterWork = 274877906944.0;  // 2^38
  constexpr double kOnlineFilterState = 67108864.0;     // 2^26
  if (rows * c * c * c > kOnlineFilterWork || units * c * c > kOnlineFilterState)
    throw Error("Expected at most " +
                std::to_string(std::max(2, int(std::min(std::cbrt(kOnlineFilterWork / rows), std::sqrt(kOnlineFilterState / units))))) +
                " cell types for online ModProp with type feedback at batch " + std::to_string(dims.batch) +
                ", nRec " + std::to_string(dims.nRec) + " and " + std::to_string(dims.steps) +
                " steps for net.nTypes but received " + std::to_string(dims.nTypes) + why +
                "; use the offline rule (online: false: the same gradient, at any number of types), fewer types, "
                "a smaller batch or shorter sequences");
}

// Rate units with C ≥ kModalMinTypes run the modal form (modprop_modal.h) when Φ's eigenbasis is well conditioned.
bool usesModal(const Dims& dims, Neuron neuron) { return neuron == Neuron::Rate && dims.nTypes >= kModalMinTypes; }

// The modal form: 2·B·(N+I)·C numbers of state and about 8·B·(N+I)·T·C flops (lib/filter.ts MODAL_* in step).
void checkModalCost(const Dims& dims) {
  const double units = double(dims.batch) * (double(dims.nRec) + dims.nIn), c = dims.nTypes;
  constexpr double kModalState = 268435456.0;     // 2^28 numbers (1 GB of float)
  constexpr double kModalWork = 274877906944.0;   // 2^38 state updates
  if (2 * units * c > kModalState || units * dims.steps * c > kModalWork)
    throw Error("Expected at most " +
                std::to_string(std::max(kModalMinTypes, int(std::min(kModalState / (2 * units), kModalWork / (units * dims.steps))))) +
                " cell types for online ModProp with type feedback at batch " + std::to_string(dims.batch) + ", nRec " +
                std::to_string(dims.nRec) + " and " + std::to_string(dims.steps) +
                " steps for net.nTypes but received " + std::to_string(dims.nTypes) +
                " (its filter keeps 2 × batch × (nRec + nIn) × C numbers and updates batch × (nRec + nIn) × steps × C "
                "of them); use the offline rule (online: false: the same gradient, at any number of types), fewer "
                "types, a smaller batch or shorter sequences");
}


// Everything about the call that does not depend on the weights' values beyond finiteness; returns the buffer sizes.
template <typename Real>
Sizes validateCall(const Dims& dims, const ModelView<Real>& view, const BatchView<Real>& batch, const RuleSpec& rule,
                   const GradView<Real>& grads) {
  validateRule(rule);
  validateNeuron(view);
  checkSpikingRule(view.neuron, rule);
  const bool needTypes = usesTypes(rule);
  const Sizes sizes = validateDims(dims, needTypes);
  validateModel(dims, view, needTypes);
  validateBatch(dims, sizes, batch);
  if (grads.win == nullptr || grads.wrec == nullptr || grads.wout == nullptr || grads.bout == nullptr)
    throw Error("Expected arrays for the gradients win, wrec, wout and bout but received null");
  if (rule.rule == Rule::Modprop && rule.online && rule.feedback == Feedback::Type && dims.nTypes > 2) {
    if (usesModal(dims, view.neuron))
      checkModalCost(dims);
    else
      checkDirectFilterCost(dims, "");
  }
  if (rule.rule == Rule::Rflo && rule.online) checkRfloOnline(dims);
  const bool exact = kRules[static_cast<int32_t>(rule.rule)].exact;  // id range-checked by validateRule
  if (!exact && rule.signal == LearningSignal::Random) {
    if (view.randomFeedback == nullptr)
      throw Error("Expected an array for randomFeedback (learning signal 'random') but received null");
    requireFinite(view.randomFeedback, std::ptrdiff_t(dims.nRec) * dims.nOut, "randomFeedback");
  }
  return sizes;
}

// ModProp's type filter (empty for other rules), refused when unstable: the engine's one stability check.
template <typename Real>
FilterMatrices stableFilter(const Dims& dims, const ModelView<Real>& view, const Model<Real>& m, const RuleSpec& rule) {
  FilterMatrices filter;
  if (rule.rule == Rule::Modprop && rule.feedback == Feedback::Type) {
    filter = filterMatrices(m.omega, typeCounts(dims, view.types), dims.nTypes, view.alpha, rule.mu);
    const bool wantModal = rule.online && usesModal(dims, view.neuron);
    const ModalForm modal = wantModal ? modalForm(filter.phi, dims.nTypes) : ModalForm{};
    double rho = -1;
    if (modal.ok) {  // ρ from the eigenvalues (a backward-stable Schur form)
      rho = 0;
      for (int k = 0; k < dims.nTypes; k++) rho = std::max(rho, std::hypot(modal.lre[k], modal.lim[k]));
    }
    if (rho < 0) rho = filterRadiusBound(filter.phi, dims.nTypes);
    if (!(rho < 1))
      throw Error("Expected a stable ModProp filter (spectral radius of Φ < 1) for rule.mu but received mu = " +
                  num(rule.mu, 17) + ", which gives spectral radius " + num(rho, 6) + "; lower mu");
    if (modal.ok && modal.condition <= kModalMaxCondition)
      filter.modal = std::make_shared<const ModalSetup>(modalSetup(modal, filter.psi));
    else if (wantModal)
      checkDirectFilterCost(dims, modal.ok ? " (Φ has no well-conditioned eigenbasis, condition number " +
                                                 num(modal.condition, 3) + ", so the modal form would be inexact, "
                                                 "and the direct form costs C³ per unit and step)"
                                           : " (the eigenvalue iteration on Φ did not converge, and the direct form "
                                             "costs C³ per unit and step)");
  }
  return filter;
}

// The online rule object of one chunk of `rows` sequences (null: e-prop).
template <typename Real>
std::unique_ptr<OnlineRule<Real>> onlineRuleOf(const Model<Real>& m, const RuleSpec& rule, const FilterMatrices& filter,
                                               int rows) {
  if (rule.rule == Rule::Modprop && filter.modal) {
    if (std::is_same<Real, float>::value && filter.modal->condition <= kModalFloatCondition)
      return std::make_unique<ModalFilter<Real, Real>>(m, filter, rows);
    return std::make_unique<ModalFilter<Real, double>>(m, filter, rows);
  }
  if (rule.rule == Rule::Modprop) return std::make_unique<ModpropFilter<Real>>(m, filter, rows);
  if (rule.rule == Rule::Rflo) return rfloOnline(m, rows);
  return nullptr;
}

// The reverse recursion of one chunk of an offline rule.
template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> creditOf(const Model<Real>& m, const RuleSpec& rule) {
  switch (rule.rule) {
    case Rule::Bptt: return bpttCredit(m, 0);
    case Rule::Tbptt: return bpttCredit(m, rule.window < m.d.steps ? rule.window : 0);
    case Rule::Eprop: return epropCredit(m);
    case Rule::Mdgl: return mdglCredit(m, rule.feedback);
    case Rule::Modprop: return modpropCredit(m, rule.feedback, rule.mu);
    case Rule::Rflo: return rfloCredit(m);
    default: throw Error("unsupported rule");  // unreachable after validateRule
  }
}

// One chunk of `rows` sequences from `first`, into its own accumulator; returns the chunk's loss.
template <typename Real>
double runChunk(const Model<Real>& m, const BatchView<Real>& batch, const RuleSpec& rule, const FilterMatrices& filter,
                int first, int rows, const GradAccumulator<Real>& a) {
  if (m.neuron != Neuron::Rate) return spikingChunk(m, batch, rule, filter, first, rows, a);
  if (rule.online) {
    const std::unique_ptr<OnlineRule<Real>> online = onlineRuleOf(m, rule, filter, rows);
    return onlineChunk(m, batch, online.get(), first, rows, a);
  }
  return offlineChunk(m, batch, *creditOf(m, rule), first, rows, a);
}

// All chunks on the column-split path (column_split.h): the same chunks, rule objects and accumulators.
void runColumns(const Model<float>& m, const BatchView<float>& batch, const RuleSpec& rule,
                const FilterMatrices& filter, int chunks, const std::function<GradAccumulator<float>(int)>& accumulatorOf,
                std::vector<double>& losses, ThreadPool& pool) {
  std::vector<int> first(chunks + 1);
  for (int c = 0; c <= chunks; c++) first[c] = int(int64_t(m.d.batch) * c / chunks);
  std::vector<GradAccumulator<float>> acc;
  for (int c = 0; c < chunks; c++) acc.push_back(accumulatorOf(c));
  if (rule.online) {
    std::vector<std::unique_ptr<OnlineRule<float>>> online;
    for (int c = 0; c < chunks; c++) online.push_back(onlineRuleOf(m, rule, filter, first[c + 1] - first[c]));
    onlineColumns(m, batch, online, first, acc, losses, pool);
    return;
  }
  std::vector<std::unique_ptr<RecurrentCredit<float>>> credit;
  for (int c = 0; c < chunks; c++) credit.push_back(creditOf(m, rule));
  int window = -1;
  if (rule.rule == Rule::Bptt) window = 0;
  if (rule.rule == Rule::Tbptt) window = rule.window < m.d.steps ? rule.window : 0;
  offlineColumns(m, batch, credit, window, first, acc, losses, pool);
}

// From this many elements the accumulators' elementwise passes (zeroing, the reduction) are split over the pool: at
// N = 4096 they stream 128 MB of accumulators and 64 MB of output, 30-40 ms of one thread per call (perf, session 11).
// Each element's operations are the same however the range is split, so the bits are too.
constexpr std::ptrdiff_t kParallelElements = std::ptrdiff_t(1) << 18;

// f(begin, end) over [0, count), in pool-sized ranges for large counts.
template <typename F>
void forRanges(std::ptrdiff_t count, ThreadPool& pool, F&& f) {
  const int tasks = count >= kParallelElements ? pool.size() : 1;
  if (tasks == 1) return f(std::ptrdiff_t(0), count);
  pool.parallelFor(tasks, [&](int t) { f(count * t / tasks, count * (t + 1) / tasks); });
}

// The per-chunk accumulators: win | wrec | wout | bout for each chunk, and each chunk's loss.
template <typename Real>
struct ChunkGrads {
  std::ptrdiff_t sWin, sWrec, sWout, sBout, per;
  int chunks;
  Retained<Real> acc;  // chunks × per, zeroed; reused across calls (retained.h): 128 MB at N = 4096, 2 threads
  std::vector<double> losses;

  ChunkGrads(const Dims& dims, int chunks, ThreadPool& pool)
      : sWin(std::ptrdiff_t(dims.nIn) * dims.nRec), sWrec(std::ptrdiff_t(dims.nRec) * dims.nRec),
        sWout(std::ptrdiff_t(dims.nRec) * dims.nOut), sBout(dims.nOut), per(sWin + sWrec + sWout + sBout),
        chunks(chunks), acc(std::size_t(per) * chunks, Uninitialized{}), losses(chunks, 0.0) {
    Real* a = acc.data();
    forRanges(per * chunks, pool, [a](std::ptrdiff_t b, std::ptrdiff_t e) { std::fill(a + b, a + e, Real(0)); });
  }

  GradAccumulator<Real> of(int c) {
    Real* base = acc.data() + per * c;
    return GradAccumulator<Real>{base, base + sWin, base + sWin + sWrec, base + sWin + sWrec + sWout};
  }
};

// Dispatch: every chunk on the column-split path (float only, when columnSplit chooses it), else one chunk per
// thread through runChunk (spiking / rate online / rate offline; the kernels pick dense, fused or sparse).
template <typename Real>
void runChunks(const Model<Real>& m, const BatchView<Real>& batch, const RuleSpec& rule, const FilterMatrices& filter,
               ChunkGrads<Real>& g, ThreadPool& pool) {
  if constexpr (std::is_same<Real, float>::value) {
    if (columnSplit(m)) {
      runColumns(m, batch, rule, filter, g.chunks, [&](int c) { return g.of(c); }, g.losses, pool);
      return;
    }
  }
  const int chunks = g.chunks, rowsTotal = m.d.batch;
  // Hosting: a thread that finishes its chunk first runs the job's hosted work (train()'s next batch), if any.
  pool.parallelFor(
      chunks,
      [&](int c) {
        const int first = int(int64_t(rowsTotal) * c / chunks);
        const int rows = int(int64_t(rowsTotal) * (c + 1) / chunks) - first;
        g.losses[c] = runChunk(m, batch, rule, filter, first, rows, g.of(c));
      },
      true);
}

// Accumulation: the chunks summed in chunk order into `grads` (bit-identical for a given thread count), the (1-α) the
// offline recursion leaves out, no self-connections; returns the loss.
// Each element as before, split over the pool when large: the chunk-0 value, plus each later chunk's in order, then
// times (1-α) for win and wrec of an offline rule (a copy, an add per chunk and a scale, block by block).
template <typename Real>
double reduceChunks(const ChunkGrads<Real>& g, const Model<Real>& m, const RuleSpec& rule, GradView<Real>& grads,
                    ThreadPool& pool) {
  double loss = 0;
  for (int c = 0; c < g.chunks; c++) loss += g.losses[c];
  Real* outs[4] = {grads.win, grads.wrec, grads.wout, grads.bout};
  const std::ptrdiff_t sizes4[4] = {g.sWin, g.sWrec, g.sWout, g.sBout};
  // The offline recursion leaves the (1-α) of dWrec and dWin to be applied once here; online traces include it.
  const bool scaled[4] = {!rule.online, !rule.online, false, false};
  std::ptrdiff_t offset = 0;
  for (int part = 0; part < 4; offset += sizes4[part], part++) {
    Real* out = outs[part];
    const Real* acc = g.acc.data() + offset;
    const std::ptrdiff_t per = g.per;
    const int chunks = g.chunks;
    const bool scale = scaled[part];
    const Real leak = m.leak;
    // In blocks that stay in L1, each pass a plain loop the compiler vectorises.
    constexpr std::ptrdiff_t kBlock = 2048;
    forRanges(sizes4[part], pool, [=](std::ptrdiff_t b, std::ptrdiff_t e) {
      for (std::ptrdiff_t b0 = b; b0 < e; b0 += kBlock) {
        const std::ptrdiff_t b1 = std::min(e, b0 + kBlock);
        std::copy(acc + b0, acc + b1, out + b0);
        for (int c = 1; c < chunks; c++) {
          const Real* src = acc + per * c;
          for (std::ptrdiff_t i = b0; i < b1; i++) out[i] += src[i];
        }
        if (scale)
          for (std::ptrdiff_t i = b0; i < b1; i++) out[i] *= leak;
      }
    });
  }
  const int n = m.d.nRec;
  for (int i = 0; i < n; i++) grads.wrec[std::ptrdiff_t(i) * n + i] = Real(0);  // no self-connections
  return loss;
}

}  // namespace

template <typename Real>
double gradients(const Dims& dims, const ModelView<Real>& view, const BatchView<Real>& batch, const RuleSpec& rule,
                 GradView<Real>& grads, ThreadPool& pool) {
  const Sizes sizes = validateCall(dims, view, batch, rule, grads);
  try {
    const Model<Real> m = buildModel(dims, view, rule, &pool);
    const FilterMatrices filter = stableFilter(dims, view, m, rule);
    ChunkGrads<Real> chunks(dims, std::min(pool.size(), int(dims.batch)), pool);
    runChunks(m, batch, rule, filter, chunks, pool);
    return reduceChunks(chunks, m, rule, grads, pool);
  } catch (const std::bad_alloc&) {
    throw Error("Expected a problem that fits in memory but allocating the workspace for batch × steps × nRec = " +
                std::to_string(sizes.state) + " failed");
  }
}

template double gradients<float>(const Dims&, const ModelView<float>&, const BatchView<float>&, const RuleSpec&,
                                 GradView<float>&, ThreadPool&);
template double gradients<double>(const Dims&, const ModelView<double>&, const BatchView<double>&, const RuleSpec&,
                                  GradView<double>&, ThreadPool&);

}  // namespace modprop
