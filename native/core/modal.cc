// See modal.h.
#include "modal.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace modprop {

namespace {

struct Cx {
  double re, im;
};
inline Cx operator+(Cx a, Cx b) { return {a.re + b.re, a.im + b.im}; }
inline Cx operator-(Cx a, Cx b) { return {a.re - b.re, a.im - b.im}; }
inline Cx operator*(Cx a, Cx b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
inline Cx operator*(double a, Cx b) { return {a * b.re, a * b.im}; }
inline Cx conj(Cx a) { return {a.re, -a.im}; }
inline double cabs(Cx a) { return std::hypot(a.re, a.im); }
inline double abs1(Cx a) { return std::fabs(a.re) + std::fabs(a.im); }
// Smith's division: no overflow from squaring |b|.
inline Cx operator/(Cx a, Cx b) {
  if (std::fabs(b.re) >= std::fabs(b.im)) {
    const double r = b.im / b.re, d = b.re + b.im * r;
    return {(a.re + a.im * r) / d, (a.im - a.re * r) / d};
  }
  const double r = b.re / b.im, d = b.re * r + b.im;
  return {(a.re * r + a.im) / d, (a.im * r - a.re) / d};
}
inline Cx csqrt(Cx z) {
  const double r = cabs(z);
  if (r == 0) return {0, 0};
  const double t = std::sqrt(0.5 * (r + std::fabs(z.re)));
  if (z.re >= 0) return {t, z.im / (2 * t)};
  return {std::fabs(z.im) / (2 * t), std::copysign(t, z.im)};
}

// a ← Qᵀ a Q upper Hessenberg (Householder), q = Q.
void hessenberg(std::vector<double>& a, std::vector<double>& q, int n) {
  q.assign(std::size_t(n) * n, 0.0);
  for (int i = 0; i < n; i++) q[std::size_t(i) * n + i] = 1;
  std::vector<double> v(n), w(n);
  auto at = [&](std::vector<double>& m, int i, int j) -> double& { return m[std::size_t(i) * n + j]; };
  for (int k = 0; k + 2 < n; k++) {
    double norm2 = 0;
    for (int i = k + 1; i < n; i++) norm2 += at(a, i, k) * at(a, i, k);
    const double alpha = std::sqrt(norm2);
    if (alpha == 0) continue;
    const double x0 = at(a, k + 1, k), s = x0 >= 0 ? -alpha : alpha;
    v[k + 1] = x0 - s;
    double vnorm2 = v[k + 1] * v[k + 1];
    for (int i = k + 2; i < n; i++) {
      v[i] = at(a, i, k);
      vnorm2 += v[i] * v[i];
    }
    if (vnorm2 == 0) continue;
    const double beta = 2 / vnorm2;
    // a ← (I − β v vᵀ) a on rows k+1.., columns k..
    for (int j = k; j < n; j++) w[j] = 0;
    for (int i = k + 1; i < n; i++)
      for (int j = k; j < n; j++) w[j] += v[i] * at(a, i, j);
    for (int i = k + 1; i < n; i++) {
      const double f = beta * v[i];
      for (int j = k; j < n; j++) at(a, i, j) -= f * w[j];
    }
    // a ← a (I − β v vᵀ) and q ← q (I − β v vᵀ) on columns k+1..
    for (std::vector<double>* m : {&a, &q})
      for (int i = 0; i < n; i++) {
        // Four partial sums: one running sum is a chain of dependent additions (and the build allows no
        // reassociation), which made this the reduction's bottleneck.
        const double* row = &at(*m, i, 0);
        double d4[4] = {0, 0, 0, 0};
        int j = k + 1;
        for (; j + 4 <= n; j += 4)
          for (int u = 0; u < 4; u++) d4[u] += row[j + u] * v[j + u];
        for (; j < n; j++) d4[0] += row[j] * v[j];
        const double f = beta * ((d4[0] + d4[1]) + (d4[2] + d4[3]));
        for (int j = k + 1; j < n; j++) at(*m, i, j) -= f * v[j];
      }
    at(a, k + 1, k) = s;
    for (int i = k + 2; i < n; i++) at(a, i, k) = 0;
  }
}

// h (upper Hessenberg, leading dimension ld) ← Schur form T = Zᴴ h Z, upper triangular; zt ← (z Z)ᵀ, kept transposed
// so that a rotation of two columns of z runs along two rows. ld > n: a power-of-two row length made the strided
// column updates of h collide in the cache (C = 512 ran 7× slower than with the padding). Applying all of a step's
// rotations row by row instead (each row read once per step) was slower still: along a row each rotation waits for
// the previous one, where down a column the rows are independent. false: no convergence.
bool schur(std::vector<Cx>& h, std::size_t ld, std::vector<Cx>& zt, int n) {
  const double eps = std::numeric_limits<double>::epsilon();
  auto H = [&](int i, int j) -> Cx& { return h[std::size_t(i) * ld + j]; };
  double norm = 0;
  for (const Cx& x : h) norm += x.re * x.re + x.im * x.im;
  norm = std::sqrt(norm);
  if (norm == 0) return true;
  const double tiny = std::numeric_limits<double>::min() / eps;
  std::vector<double> cs(n);
  std::vector<Cx> sn(n);
  int hi = n - 1, iter = 0;
  long total = 0;
  while (hi > 0) {
    int l = hi;
    for (; l > 0; l--) {
      double s = abs1(H(l - 1, l - 1)) + abs1(H(l, l));
      if (s == 0) s = norm;
      if (abs1(H(l, l - 1)) <= eps * s || abs1(H(l, l - 1)) < tiny) {
        H(l, l - 1) = {0, 0};
        break;
      }
    }
    if (l == hi) {
      hi--;
      iter = 0;
      continue;
    }
    if (++total > 40L * n) return false;
    iter++;
    Cx sigma;
    if (iter % 10 == 0) {  // exceptional shift: breaks the rare cycles of the Wilkinson shift
      const double e = std::fabs(H(hi, hi - 1).re) + (hi >= 2 ? std::fabs(H(hi - 1, hi - 2).re) : 0.0);
      sigma = H(hi, hi) + Cx{0.75 * e, 0.5 * e};
    } else {  // Wilkinson: the eigenvalue of the trailing 2×2 block nearer its last diagonal entry
      const Cx a = H(hi - 1, hi - 1), b = H(hi - 1, hi), c = H(hi, hi - 1), d = H(hi, hi);
      const Cx half = 0.5 * (a - d), root = csqrt(half * half + b * c);
      const Cx mean = 0.5 * (a + d), m1 = mean + root, m2 = mean - root;
      sigma = abs1(m1 - d) <= abs1(m2 - d) ? m1 : m2;
    }
    for (int k = l; k <= hi; k++) H(k, k) = H(k, k) - sigma;
    for (int k = l; k < hi; k++) {
      const Cx x = H(k, k), y = H(k + 1, k);
      const double ax = cabs(x), nrm = std::hypot(ax, cabs(y));
      double c;
      Cx s;
      if (nrm == 0) {
        c = 1;
        s = {0, 0};
      } else if (ax == 0) {
        c = 0;
        s = {1, 0};
      } else {
        c = ax / nrm;
        s = (1 / (ax * nrm)) * (x * conj(y));
      }
      cs[k] = c;
      sn[k] = s;
      for (int j = k; j < n; j++) {
        const Cx u = H(k, j), w = H(k + 1, j);
        H(k, j) = c * u + s * w;
        H(k + 1, j) = c * w - conj(s) * u;
      }
    }
    for (int k = l; k < hi; k++) {
      const double c = cs[k];
      const Cx s = sn[k], sc = conj(s);
      for (int i = 0; i <= k + 1; i++) {
        const Cx u = H(i, k), w = H(i, k + 1);
        H(i, k) = c * u + sc * w;
        H(i, k + 1) = c * w - s * u;
      }
      Cx* zu = &zt[std::size_t(k) * n];
      Cx* zw = zu + n;
      for (int i = 0; i < n; i++) {
        const Cx u = zu[i], w = zw[i];
        zu[i] = c * u + sc * w;
        zw[i] = c * w - s * u;
      }
    }
    for (int k = l; k <= hi; k++) H(k, k) = H(k, k) + sigma;
  }
  return true;
}

// The real form of the QR iteration (Francis double shift, Golub & Van Loan Algorithm 7.5.1): h (upper Hessenberg,
// leading dimension ld, real) ← the real Schur form, quasi-triangular with 1×1 and 2×2 diagonal blocks; zt ← (z Z)ᵀ.
// A step chases a 3×3 reflector down the active window, carrying two conjugate shifts at once in real arithmetic:
// about a quarter of the complex iteration's work. false: no convergence (the caller runs the complex iteration).
bool realSchur(std::vector<double>& h, std::size_t ld, std::vector<double>& zt, int n) {
  const double eps = std::numeric_limits<double>::epsilon();
  const double tiny = std::numeric_limits<double>::min() / eps;
  auto H = [&](int i, int j) -> double& { return h[std::size_t(i) * ld + j]; };
  double norm = 0;
  for (int i = 0; i < n; i++)
    for (int j = std::max(0, i - 1); j < n; j++) norm += H(i, j) * H(i, j);
  norm = std::sqrt(norm);
  if (norm == 0) return true;
  // P = I − β v vᵀ (v of length `len` at k) from the left on rows k.., columns from..n−1; from the right on columns
  // k.., rows 0..to; and on z's columns (rows of zt).
  auto reflect = [&](int k, int len, const double* v, double beta, int from, int to) {
    for (int j = from; j < n; j++) {
      double d = 0;
      for (int r = 0; r < len; r++) d += v[r] * H(k + r, j);
      d *= beta;
      for (int r = 0; r < len; r++) H(k + r, j) -= d * v[r];
    }
    for (int i = 0; i <= to; i++) {
      double d = 0;
      for (int r = 0; r < len; r++) d += H(i, k + r) * v[r];
      d *= beta;
      for (int r = 0; r < len; r++) H(i, k + r) -= d * v[r];
    }
    double* rows[3] = {&zt[std::size_t(k) * n], len > 1 ? &zt[std::size_t(k + 1) * n] : nullptr,
                       len > 2 ? &zt[std::size_t(k + 2) * n] : nullptr};
    for (int i = 0; i < n; i++) {
      double d = 0;
      for (int r = 0; r < len; r++) d += rows[r][i] * v[r];
      d *= beta;
      for (int r = 0; r < len; r++) rows[r][i] -= d * v[r];
    }
  };
  // The reflector of (x0, …) of length len mapping it to a multiple of e_1; false: the vector is 0.
  auto householder = [](const double* x, int len, double* v, double& beta) {
    double s = 0;
    for (int r = 0; r < len; r++) s += x[r] * x[r];
    if (s == 0) return false;
    const double alpha = x[0] >= 0 ? -std::sqrt(s) : std::sqrt(s);
    v[0] = x[0] - alpha;
    double vv = v[0] * v[0];
    for (int r = 1; r < len; r++) {
      v[r] = x[r];
      vv += v[r] * v[r];
    }
    beta = 2 / vv;
    return true;
  };
  int hi = n - 1, iter = 0;
  long total = 0;
  while (hi > 0) {
    int l = hi;
    for (; l > 0; l--) {
      double s = std::fabs(H(l - 1, l - 1)) + std::fabs(H(l, l));
      if (s == 0) s = norm;
      if (std::fabs(H(l, l - 1)) <= eps * s || std::fabs(H(l, l - 1)) < tiny) {
        H(l, l - 1) = 0;
        break;
      }
    }
    if (l == hi) {  // a 1×1 block
      hi -= 1;
      iter = 0;
      continue;
    }
    if (l == hi - 1) {  // a 2×2 block, left as it is (modalForm triangularises it in complex arithmetic)
      hi -= 2;
      iter = 0;
      continue;
    }
    if (++total > 30L * n) return false;
    iter++;
    double sum, prod;  // of the two shifts
    if (iter % 10 == 0) {  // exceptional shifts
      const double w = std::fabs(H(hi, hi - 1)) + std::fabs(H(hi - 1, hi - 2));
      sum = 1.5 * w + H(hi, hi);
      prod = w * w;
    } else {  // the eigenvalues of the trailing 2×2 block
      sum = H(hi - 1, hi - 1) + H(hi, hi);
      prod = H(hi - 1, hi - 1) * H(hi, hi) - H(hi - 1, hi) * H(hi, hi - 1);
    }
    double x[3] = {H(l, l) * H(l, l) + H(l, l + 1) * H(l + 1, l) - sum * H(l, l) + prod,
                   H(l + 1, l) * (H(l, l) + H(l + 1, l + 1) - sum), H(l + 1, l) * H(l + 2, l + 1)};
    double v[3], beta;
    for (int k = l; k <= hi - 2; k++) {
      if (householder(x, 3, v, beta)) {
        reflect(k, 3, v, beta, std::max(l, k - 1), std::min(k + 3, hi));
        if (k > l) H(k + 1, k - 1) = H(k + 2, k - 1) = 0;  // the bulge, zero by construction
      }
      x[0] = H(k + 1, k);
      x[1] = H(k + 2, k);
      if (k < hi - 2) x[2] = H(k + 3, k);
    }
    if (householder(x, 2, v, beta)) {
      reflect(hi - 1, 2, v, beta, hi - 2, hi);
      H(hi, hi - 2) = 0;
    }
  }
  return true;
}

// The 2×2 blocks of a real Schur form (t, complex-typed, real values) made upper triangular: for a block B at (i, i+1)
// with eigenvalue λ and unit eigenvector u, the unitary G = [u, u⊥] gives Gᴴ B G = [[λ, ·], [0, λ']]; it is applied
// to rows i, i+1 and columns i, i+1 of t, and to z's columns (rows of zt).
void triangulariseBlocks(std::vector<Cx>& t, std::size_t ld, std::vector<Cx>& zt, int n) {
  auto T = [&](int i, int j) -> Cx& { return t[std::size_t(i) * ld + j]; };
  for (int i = 0; i + 1 < n; i++) {
    if (T(i + 1, i).re == 0 && T(i + 1, i).im == 0) continue;
    const Cx a = T(i, i), b = T(i, i + 1), c = T(i + 1, i), d = T(i + 1, i + 1);
    const Cx half = 0.5 * (a - d), root = csqrt(half * half + b * c);
    const Cx lambda = 0.5 * (a + d) + root;
    // (B − λI) u = 0: u ∝ (b, λ − a) or (λ − d, c), whichever is larger.
    Cx u1 = b, u2 = lambda - a;
    const Cx w1 = lambda - d, w2 = c;
    if (abs1(w1) + abs1(w2) > abs1(u1) + abs1(u2)) u1 = w1, u2 = w2;
    const double nu = std::hypot(cabs(u1), cabs(u2));
    u1 = (1 / nu) * u1;
    u2 = (1 / nu) * u2;
    // G = [[u1, −conj(u2)], [u2, conj(u1)]]: rows ← Gᴴ rows, columns ← columns G.
    for (int j = i; j < n; j++) {
      const Cx x = T(i, j), y = T(i + 1, j);
      T(i, j) = conj(u1) * x + conj(u2) * y;
      T(i + 1, j) = u1 * y - u2 * x;
    }
    for (int r = 0; r <= i + 1; r++) {
      const Cx x = T(r, i), y = T(r, i + 1);
      T(r, i) = x * u1 + y * u2;
      T(r, i + 1) = y * conj(u1) - x * conj(u2);
    }
    Cx* zu = &zt[std::size_t(i) * n];
    Cx* zw = zu + n;
    for (int r = 0; r < n; r++) {
      const Cx x = zu[r], y = zw[r];
      zu[r] = x * u1 + y * u2;
      zw[r] = y * conj(u1) - x * conj(u2);
    }
    T(i + 1, i) = {0, 0};
    i++;  // the next row starts after the block
  }
}

}  // namespace

ModalForm modalForm(const std::vector<double>& a, int n, bool realIteration) {
  ModalForm out;
  out.c = n;
  std::vector<double> hr = a, qr;
  hessenberg(hr, qr, n);
  const std::size_t nn = std::size_t(n) * n, ld = std::size_t(n) + 4;
  std::vector<Cx> t(std::size_t(n) * ld, Cx{0, 0}), zt(nn);
  // The real iteration first; its quasi-triangular form is made triangular in complex arithmetic below. Should it
  // not converge, the complex iteration from the Hessenberg form.
  std::vector<double> rh(std::size_t(n) * ld, 0.0), rzt(nn);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      rh[std::size_t(i) * ld + j] = hr[std::size_t(i) * n + j];
      rzt[std::size_t(j) * n + i] = qr[std::size_t(i) * n + j];
    }
  const bool real = realIteration && realSchur(rh, ld, rzt, n);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      t[std::size_t(i) * ld + j] = {real ? rh[std::size_t(i) * ld + j] : hr[std::size_t(i) * n + j], 0};
      zt[std::size_t(j) * n + i] = {real ? rzt[std::size_t(j) * n + i] : qr[std::size_t(i) * n + j], 0};
    }
  if (real)
    triangulariseBlocks(t, ld, zt, n);
  else if (!schur(t, ld, zt, n))
    return out;
  auto T = [&](int i, int j) { return t[std::size_t(i) * ld + j]; };
  double tnorm = 0;
  for (const Cx& x : t) tnorm += x.re * x.re + x.im * x.im;
  const double small = std::max(std::sqrt(tnorm) * std::numeric_limits<double>::epsilon(), std::numeric_limits<double>::min());
  // Y: eigenvectors of T, unit diagonal, column-major (column k at y + k·n, entries 0..k).
  std::vector<Cx> y(nn, Cx{0, 0});
  for (int k = 0; k < n; k++) {
    Cx* col = &y[std::size_t(k) * n];
    col[k] = {1, 0};
    const Cx lambda = T(k, k);
    for (int i = k - 1; i >= 0; i--) {
      Cx sum{0, 0};
      for (int j = i + 1; j <= k; j++) sum = sum + T(i, j) * col[j];
      Cx denom = T(i, i) - lambda;
      if (abs1(denom) < small) denom = {small, 0};
      col[i] = Cx{0, 0} - sum / denom;
    }
  }
  // X = Y⁻¹ (upper triangular, unit diagonal), row-major: row i from X Y = I, X[i][l] = −Σ_{m=i..l−1} X[i][m] Y[m][l].
  std::vector<Cx> x(nn, Cx{0, 0});
  for (int i = 0; i < n; i++) {
    Cx* row = &x[std::size_t(i) * n];
    row[i] = {1, 0};
    for (int l = i + 1; l < n; l++) {
      const Cx* col = &y[std::size_t(l) * n];
      Cx sum{0, 0};
      for (int m = i; m < l; m++) sum = sum + row[m] * col[m];
      row[l] = Cx{0, 0} - sum;
    }
  }
  out.lre.resize(n);
  out.lim.resize(n);
  out.vre.assign(nn, 0);
  out.vim.assign(nn, 0);
  out.wre.assign(nn, 0);
  out.wim.assign(nn, 0);
  for (int k = 0; k < n; k++) {
    out.lre[k] = T(k, k).re;
    out.lim[k] = T(k, k).im;
  }
  // V = Z Y and V⁻¹ = X Zᴴ.
  // V = Z Y and V⁻¹ = X Zᴴ as sums of scaled rows of zt (contiguous, independent lanes: the dot-product form was
  // one dependent chain per entry and half as fast): V[r][k] = Σ_{j≤k} zt[j][r] Y[j][k], V⁻¹[k][r] = Σ_{l≥k} X[k][l]
  // conj(zt[l][r]).
  std::vector<Cx> acc(n);
  for (int k = 0; k < n; k++) {
    const Cx* col = &y[std::size_t(k) * n];
    std::fill(acc.begin(), acc.end(), Cx{0, 0});
    for (int j = 0; j <= k; j++) {
      const Cx f = col[j];
      const Cx* zj = &zt[std::size_t(j) * n];
      for (int r = 0; r < n; r++) acc[r] = acc[r] + zj[r] * f;
    }
    for (int r = 0; r < n; r++) {
      out.vre[std::size_t(r) * n + k] = acc[r].re;
      out.vim[std::size_t(r) * n + k] = acc[r].im;
    }
  }
  for (int k = 0; k < n; k++) {
    const Cx* xk = &x[std::size_t(k) * n];
    std::fill(acc.begin(), acc.end(), Cx{0, 0});
    for (int l = k; l < n; l++) {
      const Cx f = xk[l];
      const Cx* zl = &zt[std::size_t(l) * n];
      for (int r = 0; r < n; r++) acc[r] = acc[r] + f * conj(zl[r]);
    }
    for (int r = 0; r < n; r++) {
      out.wre[std::size_t(k) * n + r] = acc[r].re;
      out.wim[std::size_t(k) * n + r] = acc[r].im;
    }
  }
  double wnorm = 0;
  for (int k = 0; k < n; k++) {
    double v2 = 0;
    for (int r = 0; r < n; r++) {
      const std::size_t i = std::size_t(r) * n + k;
      v2 += out.vre[i] * out.vre[i] + out.vim[i] * out.vim[i];
    }
    const double nu = std::sqrt(v2);
    if (!(nu > 0) || !std::isfinite(nu)) {  // a (nearly) defective Φ: the back substitution overflowed
      out.ok = true;
      out.condition = std::numeric_limits<double>::infinity();
      return out;
    }
    for (int r = 0; r < n; r++) {
      const std::size_t i = std::size_t(r) * n + k, j = std::size_t(k) * n + r;
      out.vre[i] /= nu;
      out.vim[i] /= nu;
      out.wre[j] *= nu;
      out.wim[j] *= nu;
      wnorm += out.wre[j] * out.wre[j] + out.wim[j] * out.wim[j];
    }
  }
  out.condition = std::sqrt(double(n)) * std::sqrt(wnorm);
  if (!std::isfinite(out.condition)) out.condition = std::numeric_limits<double>::infinity();
  out.ok = true;
  return out;
}

ModalModes keptModes(const ModalForm& f) {
  const int n = f.c;
  double rho = 0;
  for (int k = 0; k < n; k++) rho = std::max(rho, std::hypot(f.lre[k], f.lim[k]));
  const double scale = std::max(1.0, rho), pairTol = 1e-8 * scale, realTol = 1e-12 * scale;
  std::vector<char> used(n, 0);
  std::vector<int> kept;
  std::vector<double> weight;
  for (int k = 0; k < n; k++) {
    if (used[k]) continue;
    used[k] = 1;
    kept.push_back(k);
    if (std::fabs(f.lim[k]) <= realTol) {
      weight.push_back(1);
      continue;
    }
    int best = -1;
    double bestDist = pairTol;
    for (int j = k + 1; j < n; j++) {
      if (used[j] || (f.lim[j] > 0) == (f.lim[k] > 0)) continue;
      const double d = std::hypot(f.lre[j] - f.lre[k], f.lim[j] + f.lim[k]);
      if (d <= bestDist) best = j, bestDist = d;
    }
    if (best >= 0) used[best] = 1;
    weight.push_back(best >= 0 ? 2 : 1);
  }
  ModalModes out;
  out.c = n;
  out.modes = int(kept.size());
  const int m = out.modes;
  out.weight = weight;
  out.vre.resize(std::size_t(n) * m), out.vim.resize(std::size_t(n) * m);
  out.wre.resize(std::size_t(m) * n), out.wim.resize(std::size_t(m) * n);
  for (int q = 0; q < m; q++) {
    const int k = kept[q];
    out.lre.push_back(f.lre[k]);
    out.lim.push_back(f.lim[k]);
    for (int r = 0; r < n; r++) {
      out.vre[std::size_t(r) * m + q] = f.vre[std::size_t(r) * n + k];
      out.vim[std::size_t(r) * m + q] = f.vim[std::size_t(r) * n + k];
      out.wre[std::size_t(q) * n + r] = f.wre[std::size_t(k) * n + r];
      out.wim[std::size_t(q) * n + r] = f.wim[std::size_t(k) * n + r];
    }
  }
  return out;
}

}  // namespace modprop
