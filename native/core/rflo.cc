// Rule `rflo` — random-feedback local online learning (Murray 2019, eLife 8:e43299) for the leaky units of SPEC §1.
// With ψ_t = relu'(v_t − thr) = [z_t > 0] and the UNMASKED learning signal L_t = δ_t Fᵀ (F the fixed random feedback
// by default, Wout with the symmetric signal), every synapse keeps a trace with the postsynaptic derivative inside
// the leaky filter:
//   q_{pj,t} = α q_{pj,t-1} + (1-α) ψ_{j,t} z_{p,t-1},     q^in_{aj,t} = α q^in_{aj,t-1} + (1-α) ψ_{j,t} x_{a,t}
//   dWrec[p][j] = Σ_t q_{pj,t} L_{j,t},                     dWin[a][j] = Σ_t q^in_{aj,t} L_{j,t}
// (e-prop filters z alone and masks the signal instead; the two agree when ψ ≡ 1.) Offline, exchanging the sums:
//   G_t = α G_{t+1} + L_t,   g_t = ψ_t ⊙ G_t,   dWrec = (1-α) Σ_t z_{t-1}ᵀ g_t,   dWin = (1-α) Σ_t x_tᵀ g_t
// so the offline form owns its combine step and asks offlineChunk for L_t in place of ℓ_t. The online form keeps
// the N² + I·N traces of every sequence of its chunk: memory independent of T, O(N²) work per step and sequence.
// Same equations as lib/reference/rflo.ts.
#include <algorithm>
#include <string>

#include "kernels.h"
#include "rules.h"

namespace modprop {

namespace {

// out = δ Fᵀ (rows×N) without the relu' mask of learningSignal.
template <typename Real>
void unmaskedSignal(const Model<Real>& m, int rows, const Real* delta, Real* out) {
  const int n = m.d.nRec, k = m.d.nOut;
  kernels::matmul<Real>(rows, n, k, delta, k, m.feedbackT.data(), n, out, n, false);
}

template <typename Real>
class RfloCredit final : public RecurrentCredit<Real> {
 public:
  explicit RfloCredit(const Model<Real>& m) : m_(m) {}
  bool signal(int rows, const Real* delta, Real* out) override {
    unmaskedSignal(m_, rows, delta, out);
    return true;
  }
  // `ell` is L_t (see signal); G lives here because g_{t+1} = ψ_{t+1} ⊙ G_{t+1} has lost what ψ masked.
  void step(int, int rows, const Real* gNext, const Real* ell, const Real*, const Real* z, Real* g) override {
    const std::ptrdiff_t count = std::ptrdiff_t(rows) * m_.d.nRec;
    if (gNext == nullptr) big_.assign(count, Real(0));  // the last step: G_{T+1} = 0
    const Real alpha = m_.alpha;
    for (std::ptrdiff_t i = 0; i < count; i++) {
      big_[i] = alpha * big_[i] + (ell != nullptr ? ell[i] : Real(0));
      g[i] = z[i] > Real(0) ? big_[i] : Real(0);
    }
  }

 private:
  const Model<Real>& m_;
  std::vector<Real> big_;
};

template <typename Real>
class RfloOnline final : public OnlineRule<Real> {
 public:
  RfloOnline(const Model<Real>& m, int rows)
      : m_(m), rows_(rows), q_(std::size_t(rows) * m.d.nRec * m.d.nRec), qIn_(std::size_t(rows) * m.d.nIn * m.d.nRec),
        dWrec_(std::size_t(m.d.nRec) * m.d.nRec), dWin_(std::size_t(m.d.nIn) * m.d.nRec),
        signal_(std::size_t(rows) * m.d.nRec) {}

  bool eligibility() const override { return false; }

  void step(int, const Real* zPrev, const Real* x, std::ptrdiff_t ldx, const Real* z) override {
    const int n = m_.d.nRec, nIn = m_.d.nIn;
    const Real alpha = m_.alpha, leak = m_.leak;
    for (int r = 0; r < rows_; r++) {
      const Real* zr = z + std::ptrdiff_t(r) * n;
      // Row p of q holds q_{p·}; z_{-1} = 0, so the first step only decays (q starts at 0 anyway).
      for (int p = 0; p < n; p++) {
        Real* row = q_.data() + (std::ptrdiff_t(r) * n + p) * n;
        const Real zp = zPrev != nullptr ? zPrev[std::ptrdiff_t(r) * n + p] : Real(0);
        for (int j = 0; j < n; j++) row[j] = alpha * row[j] + (zr[j] > Real(0) ? leak * zp : Real(0));
      }
      for (int a = 0; a < nIn; a++) {
        Real* row = qIn_.data() + (std::ptrdiff_t(r) * nIn + a) * n;
        const Real xa = x[std::ptrdiff_t(r) * ldx + a];
        for (int j = 0; j < n; j++) row[j] = alpha * row[j] + (zr[j] > Real(0) ? leak * xa : Real(0));
      }
    }
  }

  void accumulate(int rows, const Real*, const Real* delta) override {
    const int n = m_.d.nRec, nIn = m_.d.nIn;
    unmaskedSignal(m_, rows, delta, signal_.data());
    for (int r = 0; r < rows; r++) {
      const Real* sr = signal_.data() + std::ptrdiff_t(r) * n;
      for (int p = 0; p < n; p++) {
        const Real* row = q_.data() + (std::ptrdiff_t(r) * n + p) * n;
        Real* out = dWrec_.data() + std::ptrdiff_t(p) * n;
        for (int j = 0; j < n; j++) out[j] += row[j] * sr[j];
      }
      for (int a = 0; a < nIn; a++) {
        const Real* row = qIn_.data() + (std::ptrdiff_t(r) * nIn + a) * n;
        Real* out = dWin_.data() + std::ptrdiff_t(a) * n;
        for (int j = 0; j < n; j++) out[j] += row[j] * sr[j];
      }
    }
  }

  void finish(Real* dWrec, Real* dWin) const override {
    for (std::size_t i = 0; i < dWrec_.size(); i++) dWrec[i] += dWrec_[i];
    for (std::size_t i = 0; i < dWin_.size(); i++) dWin[i] += dWin_[i];
  }

 private:
  const Model<Real>& m_;
  int rows_;
  std::vector<Real> q_, qIn_;      // [rows][N][N] and [rows][I][N]
  std::vector<Real> dWrec_, dWin_;  // the chunk's sums, added in finish
  std::vector<Real> signal_;        // L_t, rows×N
};

}  // namespace

void checkRfloOnline(const Dims& d) {
  // B·N·(N + I) trace elements; beyond 2^28 (1 GiB of float) the offline form is the one to use.
  const double elements = double(d.batch) * d.nRec * (double(d.nRec) + d.nIn);
  constexpr double kMaxTraces = 268435456.0;
  if (elements > kMaxTraces)
    throw Error("Expected batch × nRec × (nRec + nIn) ≤ 268435456 trace elements for online rflo but received " +
                std::to_string(d.batch) + " × " + std::to_string(d.nRec) + " × " +
                std::to_string(d.nRec + d.nIn) + "; use the offline rule (online: false) or a smaller batch");
}

template <typename Real>
std::unique_ptr<RecurrentCredit<Real>> rfloCredit(const Model<Real>& m) {
  return std::make_unique<RfloCredit<Real>>(m);
}

template <typename Real>
std::unique_ptr<OnlineRule<Real>> rfloOnline(const Model<Real>& m, int rows) {
  return std::make_unique<RfloOnline<Real>>(m, rows);
}

template std::unique_ptr<RecurrentCredit<float>> rfloCredit<float>(const Model<float>&);
template std::unique_ptr<RecurrentCredit<double>> rfloCredit<double>(const Model<double>&);
template std::unique_ptr<OnlineRule<float>> rfloOnline<float>(const Model<float>&, int);
template std::unique_ptr<OnlineRule<double>> rfloOnline<double>(const Model<double>&, int);

}  // namespace modprop
