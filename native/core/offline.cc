// SPEC §3: the reverse-time recursion shared by every offline rule.
//   forward:  store z_t for t = 1..T (v is not needed: relu'(v_t − thr) = [z_t > 0]), δ_t where it can be non-zero
//   reverse:  g_t = α g_{t+1} + ℓ_t + (1-α) R_t from t = T down to 1 (R_t from the rule's RecurrentCredit)
//   then      dWrec = (1-α) Σ_t z_{t-1}ᵀ g_t,  dWin = (1-α) Σ_t x_tᵀ g_t  (as two long matrix products),
//             dWout = Σ_t z_tᵀ δ_t,  dbout = Σ_t δ_t  (accumulated during the forward pass)
// A chunk's buffers are laid out [T][rows][·], so each step's block is contiguous and the whole history is one
// matrix of T·rows rows. They come from the thread's reusable Workspace, never from inside the time loop.
// bptt and tbptt run the reverse recursion and the two products over the units active at some step of the chunk
// (restrictedReverse), when at least an eighth never are: at paper size the untrained bench network leaves 24–25 of
// 120 units silent for a whole 16-row chunk, and a silent unit's g_t is +0 throughout. Same bits (core_test
// restrictedReverse).
#include <algorithm>
#include <utility>

#include "kernels.h"
#include "rules.h"
#include "step.h"
#include "workspace.h"

namespace modprop {

template <typename Real>
void leakyCombine(std::ptrdiff_t count, Real alpha, const Real* gNext, const Real* ell, Real* g) {
  if (gNext != nullptr && ell != nullptr)
    for (std::ptrdiff_t i = 0; i < count; i++) g[i] = (alpha * gNext[i] + ell[i]) + g[i];
  else if (gNext != nullptr)
    for (std::ptrdiff_t i = 0; i < count; i++) g[i] = alpha * gNext[i] + g[i];
  else if (ell != nullptr)
    for (std::ptrdiff_t i = 0; i < count; i++) g[i] = ell[i] + g[i];
}

namespace {

// Σ_j a[j] b[j] with eight independent partial sums, so it vectorises without reassociation flags.
template <typename Real>
Real dot(const Real* a, const Real* b, int n) {
  Real part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++) part[l] += a[j + l] * b[j + l];
  Real s = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; j < n; j++) s += a[j] * b[j];
  return s;
}

// Many types (C up to N): per-type sums by unit, S = h Uᵀ (O(N) per row), then P = S Ωᵀ as one matrix product over
// the rows, then out[r][i] = P[r][type(i)]: O(N + C²) per row, as cheap as cell feedback at C = N, where the dot
// products over type masks cost O(N·C) and a serial C² loop.
template <typename Real>
void manyTypesProduct(const Model<Real>& m, int rows, const Real* h, Real* out) {
  const int n = m.d.nRec, c = m.d.nTypes;
  static thread_local std::vector<Real> buffer;
  buffer.assign(2 * std::size_t(rows) * c, Real(0));
  Real* sums = buffer.data();
  Real* perType = sums + std::size_t(rows) * c;
  for (int r = 0; r < rows; r++) {
    const Real* hr = h + std::ptrdiff_t(r) * n;
    Real* sr = sums + std::ptrdiff_t(r) * c;
    for (int i = 0; i < n; i++) sr[m.types[i]] += hr[i];
  }
  kernels::matmul<Real>(rows, c, c, sums, c, m.omegaT.data(), c, perType, c, false);
  for (int r = 0; r < rows; r++) {
    const Real* pr = perType + std::ptrdiff_t(r) * c;
    Real* outr = out + std::ptrdiff_t(r) * n;
    for (int i = 0; i < n; i++) outr[i] = pr[m.types[i]];
  }
}

}  // namespace

template <typename Real>
void feedbackProduct(const Model<Real>& m, Feedback feedback, int rows, const Real* h, Real* out,
                     std::vector<double>& scratch) {
  const int n = m.d.nRec;
  if (feedback == Feedback::Cell) {
    wrecTransposeProduct(m, rows, h, out);
    return;
  }
  const int c = m.d.nTypes;
  if (c > kManyTypes) return manyTypesProduct(m, rows, h, out);
  // Type masks turn the per-type sums and the expansion back to units into dot products and axpys over units.
  scratch.resize(2 * std::size_t(c));
  double* sums = scratch.data();
  double* perType = sums + c;
  for (int r = 0; r < rows; r++) {
    const Real* hr = h + std::ptrdiff_t(r) * n;
    Real* outr = out + std::ptrdiff_t(r) * n;
    for (int d = 0; d < c; d++) sums[d] = double(dot(hr, m.typeMask.data() + std::ptrdiff_t(d) * n, n));
    for (int a = 0; a < c; a++) {
      double s = 0;
      for (int d = 0; d < c; d++) s += m.omega[a * c + d] * sums[d];
      perType[a] = s;
    }
    if (c == 1) {
      std::fill(outr, outr + n, Real(perType[0]));
      continue;
    }
    for (int i = 0; i < n; i++) outr[i] = Real(0);
    for (int a = 0; a < c; a++) {
      const Real q = Real(perType[a]);
      const Real* mask = m.typeMask.data() + std::ptrdiff_t(a) * n;
      for (int i = 0; i < n; i++) outr[i] += q * mask[i];
    }
  }
}

namespace {

// The reverse recursion of SPEC §3 over mm's N units (the network's, or restrictModel's): g_t from t = T down to 1 into
// g ([T][rows][N]); zOf(t) gives the rule z_t (rows×N). ellCur and ellSpare hold rows×N.
template <typename Real, class ZOf>
void reverseRecursion(const Model<Real>& mm, const BatchView<Real>& batch, RecurrentCredit<Real>& credit, int rows,
                      const Real* delta, ZOf&& zOf, Real* g, Real* ellCur, Real* ellSpare) {
  const int steps = mm.d.steps, n = mm.d.nRec, k = mm.d.nOut;
  const std::ptrdiff_t block = std::ptrdiff_t(rows) * n;
  const Real* ellNext = nullptr;
  for (int t = steps - 1; t >= 0; t--) {
    const Real* zt = zOf(t);
    const Real* ell = nullptr;
    if (hasOutputError(batch.loss, t, steps)) {
      const Real* dt = delta + std::ptrdiff_t(t) * rows * k;
      if (!credit.signal(rows, dt, ellCur)) learningSignal(mm, rows, dt, zt, n, ellCur);
      ell = ellCur;
      std::swap(ellCur, ellSpare);  // keep ℓ_t alive as the next iteration's ℓ_{t+1}
    }
    credit.step(t, rows, t + 1 < steps ? g + (t + 1) * block : nullptr, ell, ellNext, zt, g + t * block);
    ellNext = ell;
  }
}

// The reverse recursion restricted to `units`, the units active at some step of the chunk (ascending): m with N =
// |units|, Wrecᵀ and Fᵀ restricted to them. Only what RecurrentCredit::restrictedTo allows a rule to read is set.
template <typename Real>
Model<Real> restrictModel(const Model<Real>& m, const std::vector<int>& units) {
  const int n = m.d.nRec, s = int(units.size()), k = m.d.nOut;
  Model<Real> sub{};
  sub.d = m.d;
  sub.d.nRec = s;
  sub.win = sub.wrec = sub.wout = sub.bout = nullptr;
  sub.types = nullptr;
  sub.alpha = m.alpha;
  sub.leak = m.leak;
  sub.threshold = m.threshold;
  sub.neuron = m.neuron;
  sub.wrecT.resize(std::size_t(s) * s);
  for (int a = 0; a < s; a++)
    for (int b = 0; b < s; b++) sub.wrecT[std::size_t(a) * s + b] = m.wrecT[std::size_t(units[a]) * n + units[b]];
  sub.feedbackT.resize(std::size_t(k) * s);
  for (int o = 0; o < k; o++)
    for (int b = 0; b < s; b++) sub.feedbackT[std::size_t(o) * s + b] = m.feedbackT[std::size_t(o) * n + units[b]];
  return sub;
}

// C[·][units] += Aᵀ @ G for G (rows × |units|, row stride |units|): the columns gathered, accumulated, put back, so
// each element gets the sum matmulTransA over all N columns gives it (a column of G left out is all +0).
template <typename Real>
void transAColumns(std::ptrdiff_t rows, int n1, int n, const std::vector<int>& units, const Real* a, std::ptrdiff_t lda,
                   const Real* g, Real* c) {
  const int s = int(units.size());
  std::vector<Real> part(std::size_t(n1) * s);
  for (int i = 0; i < n1; i++)
    for (int b = 0; b < s; b++) part[std::size_t(i) * s + b] = c[std::ptrdiff_t(i) * n + units[b]];
  kernels::matmulTransA<Real>(rows, n1, s, a, lda, g, s, part.data(), s);
  for (int i = 0; i < n1; i++)
    for (int b = 0; b < s; b++) c[std::ptrdiff_t(i) * n + units[b]] = part[std::size_t(i) * s + b];
}

// offlineChunk's reverse recursion and the products after it over the units ever active in the chunk (`units`): every
// other unit's g_t is +0 at every step (RecurrentCredit::restrictedTo), so its columns of g add nothing to any sum,
// and each remaining element gets the same terms in the same order (the products skip zero columns of their left
// operand, and the left-out ones are exactly those), hence the same bits. g is laid out [T][rows][|units|] in g's
// storage. The rule reads relu'(v_t − thr) of the units, as 0/1 in zc (rows × N room), from `positive` (reluBits' words
// of every step, recorded by the forward pass) rather than z_t itself: the history of z is megabytes behind and each
// step's block of it missed the caches (5 % of a paper-size call). `active` holds the units as bits (reluBits' any).
template <typename Real>
void restrictedReverse(const Model<Real>& m, const BatchView<Real>& batch, const RecurrentCredit<Real>& credit,
                       int rows, const std::vector<int>& units, const std::uint16_t* active,
                       const std::uint16_t* positive, const Real* z, const Real* x, const Real* delta, Real* g, Real* zc,
                       Real* ellCur, Real* ellSpare, const GradAccumulator<Real>& acc) {
  const int steps = m.d.steps, n = m.d.nRec, nIn = m.d.nIn, s = int(units.size()), words = (n + 15) / 16;
  if (s == 0) return;  // every g_t is +0: nothing to add
  const Model<Real> sub = restrictModel(m, units);
  const std::unique_ptr<RecurrentCredit<Real>> rc = credit.restrictedTo(sub);
  const auto zOf = [&](int t) {
    kernels::expandBits<Real>(rows, n, positive + std::ptrdiff_t(t) * rows * words, active, zc, s);
    return static_cast<const Real*>(zc);
  };
  reverseRecursion(sub, batch, *rc, rows, delta, zOf, g, ellCur, ellSpare);
  const std::ptrdiff_t part = std::ptrdiff_t(rows) * s;
  if (steps > 1) transAColumns(std::ptrdiff_t(steps - 1) * rows, n, n, units, z, n, g + part, acc.wrec);
  transAColumns(std::ptrdiff_t(steps) * rows, nIn, n, units, x, nIn, g, acc.win);
}

}  // namespace

template <typename Real>
double offlineChunk(const Model<Real>& m, const BatchView<Real>& batch, RecurrentCredit<Real>& credit, int first,
                    int rows, const GradAccumulator<Real>& acc) {
  const int steps = m.d.steps, n = m.d.nRec, nIn = m.d.nIn, k = m.d.nOut;
  const std::ptrdiff_t block = std::ptrdiff_t(rows) * n;  // one step of state
  const std::size_t nState = std::size_t(block) * steps, nX = std::size_t(rows) * nIn * steps,
                    nDelta = std::size_t(rows) * k * steps, nY = std::size_t(rows) * k;
  // Where the rule can run on the units ever active alone: relu' of every state as bits, W words per row.
  const bool restrictable = credit.restrictable() && !m.isSparse() && !m.wrecT.empty();
  const int words = (n + 15) / 16;
  const std::size_t nBits = restrictable ? std::size_t(rows) * words * steps : 0;
  Workspace ws(sizeof(Real) * 2 * nState + Workspace::round(sizeof(Real) * nX) +
               Workspace::round(sizeof(Real) * nDelta) + 4 * Workspace::round(sizeof(Real) * block) +
               Workspace::round(sizeof(Real) * nY) + Workspace::round(sizeof(std::uint16_t) * nBits) + 64 * 9);
  Real* const z = ws.take<Real>(nState);
  Real* const g = ws.take<Real>(nState);
  Real* const x = ws.take<Real>(nX);
  Real* const delta = ws.take<Real>(nDelta);
  Real* const y = ws.take<Real>(nY);
  Real* vPrev = ws.take<Real>(block);
  Real* vCur = ws.take<Real>(block);
  Real* ellCur = ws.take<Real>(block);
  Real* ellSpare = ws.take<Real>(block);
  std::uint16_t* const positive = ws.take<std::uint16_t>(nBits);

  for (int t = 0; t < steps; t++)
    for (int r = 0; r < rows; r++) {
      const Real* src = batch.x + (std::ptrdiff_t(first + r) * steps + t) * nIn;
      std::copy(src, src + nIn, x + (std::ptrdiff_t(t) * rows + r) * nIn);
    }

  // Which units are ever active (z ≠ 0; NaN counts) in this chunk.
  std::vector<std::uint16_t> active(restrictable ? words : 0, 0);
  double loss = 0;
  for (int t = 0; t < steps; t++) {
    Real* zt = z + t * block;
    const Real* xt = x + std::ptrdiff_t(t) * rows * nIn;
    networkStep(m, rows, xt, nIn, t > 0 ? vPrev : nullptr, t > 0 ? zt - block : nullptr, n, vCur, zt, n);
    std::swap(vPrev, vCur);
    if (restrictable) kernels::reluBits<Real>(rows, n, zt, n, positive + std::ptrdiff_t(t) * rows * words, active.data());
    if (hasOutputError(batch.loss, t, steps)) {
      Real* dt = delta + std::ptrdiff_t(t) * rows * k;
      loss += outputError(m, batch, first, rows, t, zt, n, y, dt);
      accumulateReadout(m, rows, zt, n, dt, acc.wout, acc.bout);
    }
  }

  if (restrictable) {
    std::vector<int> units;
    for (int i = 0; i < n; i++)
      if (active[i / 16] >> (i % 16) & 1u) units.push_back(i);
    // Worth it from an eighth of the units silent: the recursion and both products then shrink by as much.
    if (8 * units.size() <= 7 * std::size_t(n)) {
      restrictedReverse(m, batch, credit, rows, units, active.data(), positive, z, x, delta, g, vCur, ellCur, ellSpare,
                        acc);
      return loss;
    }
  }

  reverseRecursion(m, batch, credit, rows, delta, [&](int t) { return static_cast<const Real*>(z + t * block); }, g,
                   ellCur, ellSpare);

  // z_0 = 0, so step 1 contributes nothing to dWrec: pair z_1..z_{T-1} with g_2..g_T.
  if (steps > 1)
    wrecGradient(m, std::ptrdiff_t(steps - 1) * rows, z, g + block, acc.wrec);
  kernels::matmulTransA<Real>(std::ptrdiff_t(steps) * rows, nIn, n, x, nIn, g, n, acc.win, n);
  return loss;
}

#define MODPROP_INSTANTIATE(Real)                                                                                   \
  template void leakyCombine<Real>(std::ptrdiff_t, Real, const Real*, const Real*, Real*);                         \
  template void feedbackProduct<Real>(const Model<Real>&, Feedback, int, const Real*, Real*, std::vector<double>&); \
  template double offlineChunk<Real>(const Model<Real>&, const BatchView<Real>&, RecurrentCredit<Real>&, int, int, \
                                     const GradAccumulator<Real>&);
MODPROP_INSTANTIATE(float)
MODPROP_INSTANTIATE(double)
#undef MODPROP_INSTANTIATE

}  // namespace modprop
