// Spiking LIF/ALIF networks on the native engine (docs/neurons.md; lib/neurons/lif.ts, alif.ts). Per unit, from
// v_0 = a_0 = z_0 = 0, for t = 1..T:
//   v_t = α v_{t-1} + (1-α)(x_t @ Win + z_{t-1} @ Wrec) − v_th z_{t-1}      (reset by subtraction)
//   a_t = ρ a_{t-1} + z_{t-1},   A_t = v_th + β a_t                          (lif: β = 0)
//   z_t = H(v_t − A_t), 0 for `refractory` steps after a spike
//   ψ_t = (γ_pd / v_th) max(0, 1 − |v_t − A_t| / v_th), 0 while refractory
//   ẑ_t = κ ẑ_{t-1} + z_t,   y_t = ẑ_t @ Wout + bout                         (leaky readout; SPEC §2 with ẑ for z)
// Offline rules (lib/reference/spiking/reverse.ts), with g^v ≈ dE/dv, g^a ≈ dE/da, u_{T+1} = 0:
//   u_t = κ u_{t+1} + δ_t,   ℓ_t = ψ_t ⊙ (u_t @ Fᵀ)
//   s_t = ℓ_t + ψ_t ⊙ g^a_{t+1} + (1-α) R_t,   g^v_t = α g^v_{t+1} + s_t,   g^a_t = ρ g^a_{t+1} − β s_t
//   R_t: bptt ψ_t ⊙ (g^v_{t+1} @ Wrecᵀ); eprop 0; mdgl ψ_t ⊙ (ℓ_{t+1} @ Wfbᵀ); modprop μ (g^v_{t+1} @ Wfbᵀ);
//   tbptt cuts g^v and g^a together every W steps.
//   dWrec = (1-α) Σ_t z_{t-1}ᵀ g^v_t,  dWin = (1-α) Σ_t x_tᵀ g^v_t  (the (1-α) applied by gradients()),
//   dWout = Σ_t ẑ_tᵀ δ_t,  dbout = Σ_t δ_t
// Online e-prop (lib/reference/spiking/epropOnline.ts), per synapse p → j and sequence:
//   ε^a_{pj,t} = ψ_{j,t-1} ε^v_{p,t-1} + (ρ − β ψ_{j,t-1}) ε^a_{pj,t-1},   ε^v_{p,t} = α ε^v_{p,t-1} + (1-α) pre_{p,t}
//   ē_{pj,t} = κ ē_{pj,t-1} + ψ_{j,t} (ε^v_{p,t} − β ε^a_{pj,t}),          dW[p][j] += ē_{pj,t} (δ_t @ Fᵀ)_j
// Online ModProp on LIF units (type feedback) adds the readout-filtered type credit of TypeCredit below.
// RFLO (lib/reference/spiking/rflo.ts), leak-only on both neurons (no adaptation path), L̄_t = u_t Fᵀ unmasked:
//   offline  G_t = α G_{t+1} + L̄_t,  g^v_t = ψ_t ⊙ G_t   (then dWrec, dWin as above)
//   online   q_{pj,t} = α q_{pj,t-1} + (1-α) ψ_{j,t} pre_{p,t},  q̄_t = κ q̄_{t-1} + q_t,  dW[p][j] += q̄_{pj,t} (δ_t Fᵀ)_j
//   Σ_t q̄_t L_t = Σ_t q_t L̄_t, so the two are equal; 2·(N+I)·N traces per sequence, independent of T.
// The rate unit's fused kernel and its networkStep are not used: the step here is the plain product and a loop.
#include "spiking.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "kernels.h"
#include "step.h"
#include "workspace.h"

namespace modprop {

namespace {

std::string str(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

void requireRange(double v, double lo, double hi, const char* field, const char* expected) {
  if (!(v >= lo && v <= hi)) throw Error(std::string("Expected ") + expected + " for " + field + " but received " + str(v));
}

// `count` elements of a Workspace (workspace.h), uninitialised, under the std::vector calls the paths here use.
template <typename Real>
struct Scratch {
  Real* p;
  std::size_t n;
  Real* data() const { return p; }
  std::size_t size() const { return n; }
  Real& operator[](std::size_t i) const { return p[i]; }
};

// The bytes of a Workspace that hands out buffers of these element counts.
template <typename Real>
std::size_t scratchBytes(std::initializer_list<std::size_t> counts) {
  std::size_t bytes = 0;
  for (const std::size_t c : counts) bytes += Workspace::round(c * sizeof(Real));
  return bytes;
}

template <typename Real>
Scratch<Real> take(Workspace& ws, std::size_t count) {
  return {ws.take<Real>(count), count};
}

template <typename Real>
Scratch<Real> zeroed(Scratch<Real> b) {
  std::fill(b.p, b.p + b.n, Real(0));
  return b;
}

// The per-step constants in the network's precision.
template <typename Real>
struct Constants {
  Real alpha, leak, rho, beta, vth, scale, kappa;  // scale = γ_pd / v_th
  int32_t refractory;
  explicit Constants(const Model<Real>& m)
      : alpha(m.alpha), leak(m.leak), rho(Real(m.spiking.rho)), beta(Real(m.spiking.beta)), vth(Real(m.spiking.vth)),
        scale(Real(m.spiking.dampening / m.spiking.vth)), kappa(Real(m.spiking.kappa)),
        refractory(m.spiking.refractory) {}
};

// The state of `rows` sequences after step t, each rows×N contiguous: adaptation, refractory counters, ẑ.
template <typename Real>
struct State {
  std::vector<Real> a, zOut;
  std::vector<int32_t> blocked;
  State(int rows, int n) : a(std::size_t(rows) * n, Real(0)), zOut(a.size(), Real(0)), blocked(a.size(), 0) {}
};

// One row of the step's unit update, branch-free (selects instead of the refractory branch; `over` and `rest` are
// computed and dropped while a unit is blocked) and with the t = 0 and ψ cases as template flags, so the compiler
// vectorises it: the same operations on every value that is kept, so the same bits as the branching loop it replaced,
// which took most of a spiking forward pass (perf: 40 % of train's evaluation).
template <typename Real, bool kPrev, bool kPsi>
inline void unitStep(const Constants<Real>& k, int n, const Real* zPrev, const Real* vPrev, Real* v, Real* z, Real* a,
                     int32_t* blockedCount, Real* zOut, Real* psi) {
  const Real alpha = k.alpha, leak = k.leak, vth = k.vth, rho = k.rho, beta = k.beta, scale = k.scale, kappa = k.kappa;
  const int32_t refractory = k.refractory;
  for (int i = 0; i < n; i++) {
    const Real zp = kPrev ? zPrev[i] : Real(0);
    const Real vp = kPrev ? vPrev[i] : Real(0);
    const Real vi = alpha * vp + leak * v[i] - vth * zp;
    const Real ai = rho * a[i] + zp;
    v[i] = vi;
    a[i] = ai;
    const int32_t blocked = blockedCount[i];
    const Real over = vi - (vth + beta * ai);
    const Real rest = Real(1) - std::abs(over) / vth;
    const Real zi = blocked <= 0 && over > Real(0) ? Real(1) : Real(0);
    blockedCount[i] = blocked > 0 ? blocked - 1 : (over > Real(0) ? refractory : 0);
    if (kPsi) psi[i] = blocked <= 0 && rest > Real(0) ? scale * rest : Real(0);
    z[i] = zi;
    zOut[i] = kappa * zOut[i] + zi;
  }
}

// Step t for `rows` sequences. On entry v holds nothing; on exit v_t, z_t and psi_t (rows×N contiguous, may be
// null), with s.a, s.blocked and s.zOut moved to t. vPrev/zPrev null at t = 0. Rows of v, z, vPrev, zPrev are ld*
// apart.
template <typename Real>
void step(const Model<Real>& m, const Constants<Real>& k, State<Real>& s, int rows, const Real* x, std::ptrdiff_t ldx,
          const Real* vPrev, const Real* zPrev, std::ptrdiff_t ldPrev, Real* v, Real* z, std::ptrdiff_t ld, Real* psi) {
  const int n = m.d.nRec;
  synapticInput(m, rows, x, ldx, zPrev, ldPrev, v, ld);  // v ← x_t @ Win + z_{t-1} @ Wrec
  for (int r = 0; r < rows; r++) {
    Real* vr = v + r * ld;
    Real* zr = z + r * ld;
    const std::ptrdiff_t o = std::ptrdiff_t(r) * n;
    Real* ar = s.a.data() + o;
    int32_t* br = s.blocked.data() + o;
    Real* hr = s.zOut.data() + o;
    Real* pr = psi != nullptr ? psi + o : nullptr;
    const Real* zpr = zPrev != nullptr ? zPrev + r * ldPrev : nullptr;
    const Real* vpr = vPrev != nullptr ? vPrev + r * ldPrev : nullptr;
    if (zpr != nullptr && vpr != nullptr)
      pr != nullptr ? unitStep<Real, true, true>(k, n, zpr, vpr, vr, zr, ar, br, hr, pr)
                    : unitStep<Real, true, false>(k, n, zpr, vpr, vr, zr, ar, br, hr, pr);
    else
      pr != nullptr ? unitStep<Real, false, true>(k, n, zpr, vpr, vr, zr, ar, br, hr, pr)
                    : unitStep<Real, false, false>(k, n, zpr, vpr, vr, zr, ar, br, hr, pr);
  }
}

// The offline rules: forward storing z, ψ and δ per step ([T][rows][·]), then the reverse recursion of the header.
template <typename Real>
double offline(const Model<Real>& m, const BatchView<Real>& batch, const RuleSpec& rule, int first, int rows,
               const GradAccumulator<Real>& acc) {
  const int steps = m.d.steps, n = m.d.nRec, nIn = m.d.nIn, kOut = m.d.nOut;
  const std::ptrdiff_t block = std::ptrdiff_t(rows) * n;
  const Constants<Real> k(m);
  // Every buffer from the thread's Workspace (reused across calls, uninitialised: delta and u are zeroed here).
  const std::size_t nState = std::size_t(block) * steps, nX = std::size_t(rows) * nIn * steps,
                    nDelta = std::size_t(rows) * kOut * steps, nY = std::size_t(rows) * kOut, nBlock = block;
  Workspace ws(scratchBytes<Real>({nState, nState, nState, 2 * nBlock, nX, nDelta, nY, nY, nBlock, nBlock, nBlock,
                                   nBlock, nBlock}));
  Scratch<Real> z = take<Real>(ws, nState), psi = take<Real>(ws, nState), gv = take<Real>(ws, nState),
                v = take<Real>(ws, 2 * nBlock);
  Scratch<Real> x = take<Real>(ws, nX), delta = zeroed(take<Real>(ws, nDelta));
  Scratch<Real> y = take<Real>(ws, nY);
  for (int t = 0; t < steps; t++)
    for (int r = 0; r < rows; r++) {
      const Real* src = batch.x + (std::ptrdiff_t(first + r) * steps + t) * nIn;
      std::copy(src, src + nIn, x.data() + (std::ptrdiff_t(t) * rows + r) * nIn);
    }

  State<Real> s(rows, n);
  double loss = 0;
  for (int t = 0; t < steps; t++) {
    Real* vt = v.data() + (t % 2) * block;
    const Real* vp = v.data() + ((t + 1) % 2) * block;
    Real* zt = z.data() + t * block;
    step(m, k, s, rows, x.data() + std::ptrdiff_t(t) * rows * nIn, nIn, t > 0 ? vp : nullptr,
         t > 0 ? zt - block : nullptr, n, vt, zt, n, psi.data() + t * block);
    if (hasOutputError(batch.loss, t, steps)) {
      Real* dt = delta.data() + std::ptrdiff_t(t) * rows * kOut;
      loss += outputError(m, batch, first, rows, t, s.zOut.data(), n, y.data(), dt);
      accumulateReadout(m, rows, s.zOut.data(), n, dt, acc.wout, acc.bout);
    }
  }

  const int window = rule.rule == Rule::Tbptt && rule.window < steps ? rule.window : 0;
  const bool exact = rule.rule == Rule::Bptt || rule.rule == Rule::Tbptt;
  const bool rflo = rule.rule == Rule::Rflo;
  Scratch<Real> u = zeroed(take<Real>(ws, nY)), ellCur = take<Real>(ws, nBlock), ellNext = take<Real>(ws, nBlock),
      ga = take<Real>(ws, nBlock), gaNext = take<Real>(ws, nBlock), credit = take<Real>(ws, nBlock);
  std::vector<double> scratch;
  for (int t = steps - 1; t >= 0; t--) {
    const Real* pt = psi.data() + t * block;
    const Real* dt = delta.data() + std::ptrdiff_t(t) * rows * kOut;
    for (std::size_t i = 0; i < u.size(); i++) u[i] = k.kappa * u[i] + dt[i];
    kernels::matmul<Real>(rows, n, kOut, u.data(), kOut, m.feedbackT.data(), n, ellCur.data(), n, false);
    const bool last = t + 1 == steps;
    if (rflo) {  // G_t = α G_{t+1} + L̄_t (in ga, RFLO having no adaptation path), g_t = ψ_t ⊙ G_t
      Real* g = gv.data() + t * block;
      for (std::ptrdiff_t i = 0; i < block; i++) {
        ga[i] = (last ? Real(0) : k.alpha * ga[i]) + ellCur[i];
        g[i] = pt[i] * ga[i];
      }
      continue;
    }
    for (std::ptrdiff_t i = 0; i < block; i++) ellCur[i] *= pt[i];
    const bool cut = window > 0 && (t + 1) % window == 0 && !last;
    const Real* gvn = last || cut ? nullptr : gv.data() + (t + 1) * block;
    const Real* gan = last || cut ? nullptr : gaNext.data();
    bool hasCredit = false;
    if (exact && gvn != nullptr) {
      wrecTransposeProduct(m, rows, gvn, credit.data());
      for (std::ptrdiff_t i = 0; i < block; i++) credit[i] *= pt[i];
      hasCredit = true;
    } else if (rule.rule == Rule::Mdgl && !last) {
      feedbackProduct(m, rule.feedback, rows, ellNext.data(), credit.data(), scratch);
      for (std::ptrdiff_t i = 0; i < block; i++) credit[i] *= pt[i];
      hasCredit = true;
    } else if (rule.rule == Rule::Modprop && gvn != nullptr) {
      feedbackProduct(m, rule.feedback, rows, gvn, credit.data(), scratch);
      const Real mu = Real(rule.mu);
      for (std::ptrdiff_t i = 0; i < block; i++) credit[i] *= mu;
      hasCredit = true;
    }
    Real* g = gv.data() + t * block;
    for (std::ptrdiff_t i = 0; i < block; i++) {
      Real si = ellCur[i];
      if (gan != nullptr) si += pt[i] * gan[i];
      if (hasCredit) si += k.leak * credit[i];
      g[i] = (gvn != nullptr ? k.alpha * gvn[i] : Real(0)) + si;
      ga[i] = (gan != nullptr ? k.rho * gan[i] : Real(0)) - k.beta * si;
    }
    std::swap(ga, gaNext);
    std::swap(ellCur, ellNext);
  }

  // z_0 = 0: pair z_1..z_{T-1} with g_2..g_T, as offlineChunk.
  if (steps > 1)
    kernels::matmulTransA<Real>(std::ptrdiff_t(steps - 1) * rows, n, n, z.data(), n, gv.data() + block, n, acc.wrec, n);
  kernels::matmulTransA<Real>(std::ptrdiff_t(steps) * rows, nIn, n, x.data(), nIn, gv.data(), n, acc.win, n);
  return loss;
}

// Per-synapse traces of `pre` presynaptic units onto N units, for each of `rows` sequences: e-prop's (ε^v, ε^a, ē),
// or RFLO's (q, q̄) when `rflo`.
template <typename Real>
struct Traces {
  int pre, n;
  std::vector<Real> epsV, epsA, q, filtered;  // rows×pre, rows×pre×N (alif), rows×pre×N (rflo), rows×pre×N
  Traces(int rows, int pre_, int n_, bool adaptive, bool rflo)
      : pre(pre_), n(n_), epsV(rflo ? 0 : std::size_t(rows) * pre_, Real(0)),
        epsA(adaptive && !rflo ? std::size_t(rows) * pre_ * n_ : 0, Real(0)),
        q(rflo ? std::size_t(rows) * pre_ * n_ : 0, Real(0)), filtered(std::size_t(rows) * pre_ * n_, Real(0)) {}

  // Row r to step t. e-prop: ε^a (from ε^v_{t-1}, ψ_{t-1}), then ε^v with input `in` (length pre), then ē with ψ_t.
  // RFLO: q = α q + (1-α) ψ_t in, q̄ = κ q̄ + q (leak only, whatever the neuron).
  void advance(const Constants<Real>& k, int r, const Real* in, const Real* psiPrev, const Real* psi) {
    Real* fr = filtered.data() + std::ptrdiff_t(r) * pre * n;
    if (!q.empty()) {
      Real* qr = q.data() + std::ptrdiff_t(r) * pre * n;
      for (int p = 0; p < pre; p++) {
        Real* qp = qr + std::ptrdiff_t(p) * n;
        Real* fp = fr + std::ptrdiff_t(p) * n;
        const Real input = k.leak * in[p];
        for (int j = 0; j < n; j++) {
          qp[j] = k.alpha * qp[j] + psi[j] * input;
          fp[j] = k.kappa * fp[j] + qp[j];
        }
      }
      return;
    }
    Real* ev = epsV.data() + std::ptrdiff_t(r) * pre;
    Real* ea = epsA.empty() ? nullptr : epsA.data() + std::ptrdiff_t(r) * pre * n;
    for (int p = 0; p < pre; p++) {
      Real* fp = fr + std::ptrdiff_t(p) * n;
      if (ea != nullptr) {
        Real* ap = ea + std::ptrdiff_t(p) * n;
        const Real before = ev[p];
        for (int j = 0; j < n; j++) ap[j] = psiPrev[j] * before + (k.rho - k.beta * psiPrev[j]) * ap[j];
        const Real e = k.alpha * ev[p] + k.leak * in[p];
        ev[p] = e;
        for (int j = 0; j < n; j++) fp[j] = k.kappa * fp[j] + psi[j] * (e - k.beta * ap[j]);
      } else {
        const Real e = k.alpha * ev[p] + k.leak * in[p];
        ev[p] = e;
        for (int j = 0; j < n; j++) fp[j] = k.kappa * fp[j] + psi[j] * e;
      }
    }
  }

  // grad[p][j] += ē_{pj} L_j for row r.
  void credit(int r, const Real* signal, Real* grad) const {
    const Real* fr = filtered.data() + std::ptrdiff_t(r) * pre * n;
    for (int p = 0; p < pre; p++) {
      const Real* fp = fr + std::ptrdiff_t(p) * n;
      Real* gp = grad + std::ptrdiff_t(p) * n;
      for (int j = 0; j < n; j++) gp[j] += fp[j] * signal[j];
    }
  }
};

// Online ModProp's type filter on LIF units, made causal through the leaky readout (lib/reference/spiking/
// modpropOnline.ts), for `pre` presynaptic units: per sequence and presynaptic unit p,
//   R_{p,t} = R_{p,t-1} Φ + ε^v_{p,t-1} I_C,     Q_{p,i,t}[a] = κ Q_{p,i,t-1}[a] + ψ_{i,t} (Ψ R_{p,t})[a][type(i)],
//   A[p][a] += Σ_i L_{i,t} Q_{p,i,t}[a],         and at the end dW[p][j] += A[p][type(j)],
// on top of e-prop's Σ_t L_t ē_t. State (pre·C² + pre·N·C) per sequence, independent of T.
template <typename Real>
struct TypeCredit {
  int pre, n, c;
  const int32_t* types;
  std::vector<Real> phi, psiM;              // Φ, Ψ (C×C)
  std::vector<Real> r, q, psiR, next, acc;  // rows×pre×C×C, rows×pre×C×N (a-major), C×C, C×C, pre×C (summed over rows)
  // Q's units are kept grouped by type (a stable sort: units of type e at begin[e]..begin[e+1]), so that one pass
  // over them updates Q[p][a][·] with one coefficient per type segment; ψ and L are gathered into that order.
  std::vector<int32_t> order, begin;
  std::vector<Real> sorted;  // ψ_t or L_t in that order
  TypeCredit(int rows, int pre_, int n_, int c_, const FilterMatrices& f, const int32_t* types_)
      : pre(pre_), n(n_), c(c_), types(types_), phi(f.phi.begin(), f.phi.end()), psiM(f.psi.begin(), f.psi.end()),
        r(std::size_t(rows) * pre_ * c_ * c_, Real(0)), q(std::size_t(rows) * pre_ * c_ * n_, Real(0)),
        psiR(std::size_t(c_) * c_), next(psiR.size()), acc(std::size_t(pre_) * c_, Real(0)), begin(c_ + 1, 0),
        sorted(n_) {
    for (int i = 0; i < n; i++) begin[types[i] + 1]++;
    for (int e = 0; e < c; e++) begin[e + 1] += begin[e];
    order.resize(n);
    std::vector<int32_t> at(begin.begin(), begin.end() - 1);
    for (int i = 0; i < n; i++) order[at[types[i]]++] = i;
  }

  void gather(const Real* values) {
    for (int i = 0; i < n; i++) sorted[i] = values[order[i]];
  }

  // R ← R Φ + ε I for row `row`, from the presynaptic traces ε^v_{t-1} (length pre).
  void advanceFilter(int row, const Real* eps) {
    const std::size_t cc = std::size_t(c) * c;
    for (int p = 0; p < pre; p++) {
      Real* rp = r.data() + (std::size_t(row) * pre + p) * cc;
      for (int a = 0; a < c; a++)
        for (int d = 0; d < c; d++) {
          Real s = a == d ? eps[p] : Real(0);
          for (int k = 0; k < c; k++) s += rp[a * c + k] * phi[std::size_t(k) * c + d];
          next[std::size_t(a) * c + d] = s;
        }
      std::copy(next.begin(), next.end(), rp);
    }
  }

  // Q ← κ Q + ψ_i (Ψ R_p)[a][type(i)] for row `row`, with ψ_t of its N units.
  void advanceQ(int row, const Real* psi, Real kappa) {
    gather(psi);
    const std::size_t cc = std::size_t(c) * c;
    for (int p = 0; p < pre; p++) {
      const Real* rp = r.data() + (std::size_t(row) * pre + p) * cc;
      for (int a = 0; a < c; a++)
        for (int e = 0; e < c; e++) {
          Real s = 0;
          for (int d = 0; d < c; d++) s += psiM[std::size_t(a) * c + d] * rp[d * c + e];
          psiR[std::size_t(a) * c + e] = s;
        }
      Real* qp = q.data() + (std::size_t(row) * pre + p) * c * n;
      for (int a = 0; a < c; a++) {
        Real* qa = qp + std::size_t(a) * n;
        for (int e = 0; e < c; e++) {
          const Real w = psiR[std::size_t(a) * c + e];
          for (int i = begin[e]; i < begin[e + 1]; i++) qa[i] = kappa * qa[i] + w * sorted[i];
        }
      }
    }
  }

  // A[p][a] += Σ_i L_i Q[p][a][i] for row `row`.
  void credit(int row, const Real* signal) {
    gather(signal);
    for (int p = 0; p < pre; p++) {
      const Real* qp = q.data() + (std::size_t(row) * pre + p) * c * n;
      for (int a = 0; a < c; a++) {
        const Real* qa = qp + std::size_t(a) * n;
        Real s = 0;
        for (int i = 0; i < n; i++) s += sorted[i] * qa[i];
        acc[std::size_t(p) * c + a] += s;
      }
    }
  }

  // dW[p][j] += A[p][type(j)]
  void finish(Real* dW) const {
    for (int p = 0; p < pre; p++)
      for (int j = 0; j < n; j++) dW[std::size_t(p) * n + j] += acc[std::size_t(p) * c + types[j]];
  }
};

// Online e-prop, online ModProp (LIF, type feedback) when `filter` is given, or online RFLO when `rflo`.
template <typename Real>
double online(const Model<Real>& m, const BatchView<Real>& batch, const FilterMatrices* filter, bool rflo, int first,
              int rows, const GradAccumulator<Real>& acc) {
  const int steps = m.d.steps, n = m.d.nRec, nIn = m.d.nIn, kOut = m.d.nOut;
  const std::ptrdiff_t block = std::ptrdiff_t(rows) * n;
  const Constants<Real> k(m);
  const bool adaptive = m.spiking.beta != 0;
  Traces<Real> input(rows, nIn, n, adaptive, rflo), rec(rows, n, n, adaptive, rflo);
  std::vector<Real> x(std::size_t(rows) * nIn), v(2 * std::size_t(block)), z(2 * std::size_t(block), Real(0));
  std::vector<Real> psi(block), psiPrev(block, Real(0)), y(std::size_t(rows) * kOut), delta(y.size()), signal(block);
  std::unique_ptr<TypeCredit<Real>> typeIn, typeRec;
  if (filter != nullptr) {
    typeIn = std::make_unique<TypeCredit<Real>>(rows, nIn, n, m.d.nTypes, *filter, m.types);
    typeRec = std::make_unique<TypeCredit<Real>>(rows, n, n, m.d.nTypes, *filter, m.types);
  }
  State<Real> s(rows, n);
  double loss = 0;
  for (int t = 0; t < steps; t++) {
    for (int r = 0; r < rows; r++) {
      const Real* src = batch.x + (std::ptrdiff_t(first + r) * steps + t) * nIn;
      std::copy(src, src + nIn, x.data() + std::ptrdiff_t(r) * nIn);
    }
    Real* vt = v.data() + (t % 2) * block;
    Real* zt = z.data() + (t % 2) * block;
    const Real* zp = z.data() + ((t + 1) % 2) * block;  // zeros at t = 0
    step(m, k, s, rows, x.data(), nIn, t > 0 ? v.data() + ((t + 1) % 2) * block : nullptr, t > 0 ? zp : nullptr, n,
         vt, zt, n, psi.data());
    for (int r = 0; r < rows; r++) {
      const Real* pp = psiPrev.data() + r * n;
      const Real* pc = psi.data() + r * n;
      if (typeIn) {
        typeIn->advanceFilter(r, input.epsV.data() + std::ptrdiff_t(r) * nIn);
        typeRec->advanceFilter(r, rec.epsV.data() + std::ptrdiff_t(r) * n);
      }
      input.advance(k, r, x.data() + std::ptrdiff_t(r) * nIn, pp, pc);
      rec.advance(k, r, zp + std::ptrdiff_t(r) * n, pp, pc);
      if (typeIn) {
        typeIn->advanceQ(r, pc, k.kappa);
        typeRec->advanceQ(r, pc, k.kappa);
      }
    }
    std::copy(psi.begin(), psi.end(), psiPrev.begin());
    if (!hasOutputError(batch.loss, t, steps)) continue;
    loss += outputError(m, batch, first, rows, t, s.zOut.data(), n, y.data(), delta.data());
    accumulateReadout(m, rows, s.zOut.data(), n, delta.data(), acc.wout, acc.bout);
    kernels::matmul<Real>(rows, n, kOut, delta.data(), kOut, m.feedbackT.data(), n, signal.data(), n, false);
    for (int r = 0; r < rows; r++) {
      input.credit(r, signal.data() + r * n, acc.win);
      rec.credit(r, signal.data() + r * n, acc.wrec);
      if (typeIn) {
        typeIn->credit(r, signal.data() + r * n);
        typeRec->credit(r, signal.data() + r * n);
      }
    }
  }
  if (typeIn) {
    typeIn->finish(acc.win);
    typeRec->finish(acc.wrec);
  }
  return loss;
}

}  // namespace

template <typename Real>
void validateNeuron(const ModelView<Real>& view) {
  const int32_t id = static_cast<int32_t>(view.neuron);
  if (id < 0 || id >= int32_t(std::size(kNeuronNames)))
    throw Error("Expected a neuron id between 0 and " + std::to_string(std::size(kNeuronNames) - 1) +
                " for neuron but received " + std::to_string(id));
  if (view.neuron == Neuron::Rate) return;
  const SpikingConstants& k = view.spiking;
  if (!(view.alpha < 1)) throw Error("Expected a membrane decay alpha < 1 for a spiking neuron but received " + str(view.alpha));
  requireRange(k.vth, 1e-300, 1e300, "neuron.vth", "a finite threshold > 0");
  requireRange(k.dampening, 1e-300, 1e300, "neuron.dampening", "a finite dampening > 0");
  requireRange(k.kappa, 0, 1, "neuron.kappa", "a readout decay in [0, 1]");
  if (k.refractory < 0) throw Error("Expected a refractory period ≥ 0 for neuron.refractory but received " + std::to_string(k.refractory));
  if (view.neuron == Neuron::Lif) {
    if (k.rho != 0 || k.beta != 0)
      throw Error("Expected rho = beta = 0 for neuron.beta of a lif neuron (no adaptation) but received rho " + str(k.rho) +
                  ", beta " + str(k.beta));
    return;
  }
  requireRange(k.rho, 0, 1, "neuron.rho", "an adaptation decay in [0, 1]");
  // lib/neurons/config.ts: |ρ − βψ| ≤ 1 for every ψ in [0, γ/v_th], or the adaptation's gradient explodes.
  requireRange(k.beta, 0, (1 + k.rho) * k.vth / k.dampening, "neuron.beta", "a beta in [0, (1 + rho) · vth / dampening]");
}

void checkSpikingRule(Neuron neuron, const RuleSpec& rule) {
  if (neuron == Neuron::Rate) return;
  const char* name = kNeuronNames[static_cast<int32_t>(neuron)].name;
  switch (rule.rule) {
    case Rule::Bptt:
    case Rule::Tbptt:
    case Rule::Mdgl: return;
    case Rule::Eprop:
    case Rule::Rflo: return;
    case Rule::Modprop:
      if (!rule.online || neuron == Neuron::Lif) return;  // online: type feedback (validateRule)
      throw Error(std::string("Expected online: false for rule.online of modprop on ") + name +
                  " neurons (online ModProp exists for rate and lif units: alif's adaptation makes the credit filter "
                  "per unit, not per type) but received true");
    default:
      throw Error(std::string("Expected a rule the native engine runs on ") + name + " neurons (bptt, tbptt, eprop, " +
                  "mdgl, modprop, rflo) for rule.rule but received " + kRules[static_cast<int32_t>(rule.rule)].name);
  }
}

template <typename Real>
void spikingForward(const Model<Real>& m, const Real* x, int b0, int rows, Real* v, Real* z, Real* y) {
  const int steps = m.d.steps, n = m.d.nRec, nIn = m.d.nIn, kOut = m.d.nOut;
  const Constants<Real> k(m);
  State<Real> s(rows, n);
  const std::ptrdiff_t ld = std::ptrdiff_t(steps) * n, ldx = std::ptrdiff_t(steps) * nIn;
  const std::ptrdiff_t base = std::ptrdiff_t(b0) * steps;
  std::vector<Real> yBlock(std::size_t(rows) * kOut);
  for (int t = 0; t < steps; t++) {
    Real* vt = v + (base + t) * n;
    Real* zt = z + (base + t) * n;
    step(m, k, s, rows, x + (base + t) * nIn, ldx, t > 0 ? vt - n : nullptr, t > 0 ? zt - n : nullptr, ld, vt, zt, ld,
         static_cast<Real*>(nullptr));
    kernels::matmul<Real>(rows, kOut, n, s.zOut.data(), n, m.wout, kOut, yBlock.data(), kOut, false);
    Real* yt = y + (base + t) * kOut;
    for (int r = 0; r < rows; r++)
      for (int o = 0; o < kOut; o++) yt[std::ptrdiff_t(r) * steps * kOut + o] = yBlock[std::size_t(r) * kOut + o] + m.bout[o];
  }
}

template <typename Real>
double spikingChunk(const Model<Real>& m, const BatchView<Real>& batch, const RuleSpec& rule,
                    const FilterMatrices& filter, int first, int rows, const GradAccumulator<Real>& acc) {
  // checkSpikingRule: online means e-prop, RFLO, or ModProp with type feedback on LIF units.
  if (rule.online)
    return online(m, batch, rule.rule == Rule::Modprop ? &filter : nullptr, rule.rule == Rule::Rflo, first, rows, acc);
  return offline(m, batch, rule, first, rows, acc);
}

#define MODPROP_INSTANTIATE(Real)                                                                                  \
  template void validateNeuron<Real>(const ModelView<Real>&);                                                     \
  template void spikingForward<Real>(const Model<Real>&, const Real*, int, int, Real*, Real*, Real*);             \
  template double spikingChunk<Real>(const Model<Real>&, const BatchView<Real>&, const RuleSpec&,                \
                                     const FilterMatrices&, int, int, const GradAccumulator<Real>&);
MODPROP_INSTANTIATE(float)
MODPROP_INSTANTIATE(double)
#undef MODPROP_INSTANTIATE

}  // namespace modprop
