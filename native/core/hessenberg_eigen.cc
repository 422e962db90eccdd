// See hessenberg_eigen.h. The algorithm is JAMA's (public domain), as ml-matrix 6.15 writes it; every expression keeps
// its JavaScript evaluation order, and the build has -ffp-contract=off and no -ffast-math, so the bits agree
// (test/unit/spectralRadiusLarge.test.ts compares them on random, Arnoldi-projected, defective and complex-spectrum
// matrices).
// Variables that JavaScript declares without a value start at 0 here: a path that read one before assigning it would
// have produced NaN there, and no such path is reached (each is assigned before use on every branch).
#include "hessenberg_eigen.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <vector>

namespace modprop {

namespace {

struct Square {
  double* data;
  int n;
  double& operator()(int i, int j) const { return data[std::size_t(i) * n + j]; }
};

// Householder reduction to Hessenberg form, accumulating the transformations in V.
void orthes(int n, Square H, double* ort, Square V) {
  const int low = 0, high = n - 1;
  double f, g, h, scale;
  for (int m = low + 1; m <= high - 1; m++) {
    scale = 0;
    for (int i = m; i <= high; i++) scale = scale + std::fabs(H(i, m - 1));
    if (scale != 0) {
      h = 0;
      for (int i = high; i >= m; i--) {
        ort[i] = H(i, m - 1) / scale;
        h += ort[i] * ort[i];
      }
      g = std::sqrt(h);
      if (ort[m] > 0) g = -g;
      h = h - ort[m] * g;
      ort[m] = ort[m] - g;
      for (int j = m; j < n; j++) {
        f = 0;
        for (int i = high; i >= m; i--) f += ort[i] * H(i, j);
        f = f / h;
        for (int i = m; i <= high; i++) H(i, j) = H(i, j) - f * ort[i];
      }
      for (int i = 0; i <= high; i++) {
        f = 0;
        for (int j = high; j >= m; j--) f += ort[j] * H(i, j);
        f = f / h;
        for (int j = m; j <= high; j++) H(i, j) = H(i, j) - f * ort[j];
      }
      ort[m] = scale * ort[m];
      H(m, m - 1) = scale * g;
    }
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) V(i, j) = i == j ? 1 : 0;
  for (int m = high - 1; m >= low + 1; m--) {
    if (H(m, m - 1) != 0) {
      for (int i = m + 1; i <= high; i++) ort[i] = H(i, m - 1);
      for (int j = m; j <= high; j++) {
        g = 0;
        for (int i = m; i <= high; i++) g += ort[i] * V(i, j);
        g = g / ort[m] / H(m, m - 1);
        for (int i = m; i <= high; i++) V(i, j) = V(i, j) + g * ort[i];
      }
    }
  }
}

// Complex division (xr + i·xi) / (yr + i·yi), Smith's formula as JAMA writes it.
void cdiv(double xr, double xi, double yr, double yi, double& outR, double& outI) {
  double r, d;
  if (std::fabs(yr) > std::fabs(yi)) {
    r = yi / yr;
    d = yr + r * yi;
    outR = (xr + r * xi) / d;
    outI = (xi - r * xr) / d;
  } else {
    r = yr / yi;
    d = yi + r * yr;
    outR = (r * xr + xi) / d;
    outI = (r * xi - xr) / d;
  }
}

// Shifted QR iteration on the Hessenberg H to real Schur form, then back-substitution for the eigenvectors.
void hqr2(int nn, double* e, double* d, Square V, Square H) {
  int n = nn - 1;
  const int low = 0, high = nn - 1;
  const double eps = DBL_EPSILON;
  double exshift = 0, norm = 0, p = 0, q = 0, r = 0, s = 0, z = 0;
  int iter = 0;
  int l = 0, m = 0;
  double t = 0, w = 0, x = 0, y = 0, ra, sa, vr, vi;
  bool notlast;

  for (int i = 0; i < nn; i++) {
    if (i < low || i > high) {
      d[i] = H(i, i);
      e[i] = 0;
    }
    for (int j = std::max(i - 1, 0); j < nn; j++) norm = norm + std::fabs(H(i, j));
  }

  while (n >= low) {
    l = n;
    while (l > low) {
      s = std::fabs(H(l - 1, l - 1)) + std::fabs(H(l, l));
      if (s == 0) s = norm;
      if (std::fabs(H(l, l - 1)) < eps * s) break;
      l--;
    }

    if (l == n) {
      H(n, n) = H(n, n) + exshift;
      d[n] = H(n, n);
      e[n] = 0;
      n--;
      iter = 0;
    } else if (l == n - 1) {
      w = H(n, n - 1) * H(n - 1, n);
      p = (H(n - 1, n - 1) - H(n, n)) / 2;
      q = p * p + w;
      z = std::sqrt(std::fabs(q));
      H(n, n) = H(n, n) + exshift;
      H(n - 1, n - 1) = H(n - 1, n - 1) + exshift;
      x = H(n, n);
      if (q >= 0) {
        z = p >= 0 ? p + z : p - z;
        d[n - 1] = x + z;
        d[n] = d[n - 1];
        if (z != 0) d[n] = x - w / z;
        e[n - 1] = 0;
        e[n] = 0;
        x = H(n, n - 1);
        s = std::fabs(x) + std::fabs(z);
        p = x / s;
        q = z / s;
        r = std::sqrt(p * p + q * q);
        p = p / r;
        q = q / r;
        for (int j = n - 1; j < nn; j++) {
          z = H(n - 1, j);
          H(n - 1, j) = q * z + p * H(n, j);
          H(n, j) = q * H(n, j) - p * z;
        }
        for (int i = 0; i <= n; i++) {
          z = H(i, n - 1);
          H(i, n - 1) = q * z + p * H(i, n);
          H(i, n) = q * H(i, n) - p * z;
        }
        for (int i = low; i <= high; i++) {
          z = V(i, n - 1);
          V(i, n - 1) = q * z + p * V(i, n);
          V(i, n) = q * V(i, n) - p * z;
        }
      } else {
        d[n - 1] = x + p;
        d[n] = x + p;
        e[n - 1] = z;
        e[n] = -z;
      }
      n = n - 2;
      iter = 0;
    } else {
      x = H(n, n);
      y = 0;
      w = 0;
      if (l < n) {
        y = H(n - 1, n - 1);
        w = H(n, n - 1) * H(n - 1, n);
      }
      if (iter == 10) {
        exshift += x;
        for (int i = low; i <= n; i++) H(i, i) = H(i, i) - x;
        s = std::fabs(H(n, n - 1)) + std::fabs(H(n - 1, n - 2));
        x = y = 0.75 * s;
        w = -0.4375 * s * s;
      }
      if (iter == 30) {
        s = (y - x) / 2;
        s = s * s + w;
        if (s > 0) {
          s = std::sqrt(s);
          if (y < x) s = -s;
          s = x - w / ((y - x) / 2 + s);
          for (int i = low; i <= n; i++) H(i, i) = H(i, i) - s;
          exshift += s;
          x = y = w = 0.964;
        }
      }
      iter = iter + 1;

      m = n - 2;
      while (m >= l) {
        z = H(m, m);
        r = x - z;
        s = y - z;
        p = (r * s - w) / H(m + 1, m) + H(m, m + 1);
        q = H(m + 1, m + 1) - z - r - s;
        r = H(m + 2, m + 1);
        s = std::fabs(p) + std::fabs(q) + std::fabs(r);
        p = p / s;
        q = q / s;
        r = r / s;
        if (m == l) break;
        if (std::fabs(H(m, m - 1)) * (std::fabs(q) + std::fabs(r)) <
            eps * (std::fabs(p) * (std::fabs(H(m - 1, m - 1)) + std::fabs(z) + std::fabs(H(m + 1, m + 1)))))
          break;
        m--;
      }

      for (int i = m + 2; i <= n; i++) {
        H(i, i - 2) = 0;
        if (i > m + 2) H(i, i - 3) = 0;
      }

      for (int k = m; k <= n - 1; k++) {
        notlast = k != n - 1;
        if (k != m) {
          p = H(k, k - 1);
          q = H(k + 1, k - 1);
          r = notlast ? H(k + 2, k - 1) : 0;
          x = std::fabs(p) + std::fabs(q) + std::fabs(r);
          if (x != 0) {
            p = p / x;
            q = q / x;
            r = r / x;
          }
        }
        if (x == 0) break;
        s = std::sqrt(p * p + q * q + r * r);
        if (p < 0) s = -s;
        if (s != 0) {
          if (k != m) {
            H(k, k - 1) = -s * x;
          } else if (l != m) {
            H(k, k - 1) = -H(k, k - 1);
          }
          p = p + s;
          x = p / s;
          y = q / s;
          z = r / s;
          q = q / p;
          r = r / p;
          for (int j = k; j < nn; j++) {
            p = H(k, j) + q * H(k + 1, j);
            if (notlast) {
              p = p + r * H(k + 2, j);
              H(k + 2, j) = H(k + 2, j) - p * z;
            }
            H(k, j) = H(k, j) - p * x;
            H(k + 1, j) = H(k + 1, j) - p * y;
          }
          // The reflector from the right, on the rows of H it reaches and on every row of V.
          const auto fromRight = [&](Square M, int i) {
            p = x * M(i, k) + y * M(i, k + 1);
            if (notlast) {
              p = p + z * M(i, k + 2);
              M(i, k + 2) = M(i, k + 2) - p * r;
            }
            M(i, k) = M(i, k) - p;
            M(i, k + 1) = M(i, k + 1) - p * q;
          };
          for (int i = 0; i <= std::min(n, k + 3); i++) fromRight(H, i);
          for (int i = low; i <= high; i++) fromRight(V, i);
        }
      }
    }
  }

  if (norm == 0) return;

  for (n = nn - 1; n >= 0; n--) {
    p = d[n];
    q = e[n];
    if (q == 0) {
      l = n;
      H(n, n) = 1;
      for (int i = n - 1; i >= 0; i--) {
        w = H(i, i) - p;
        r = 0;
        for (int j = l; j <= n; j++) r = r + H(i, j) * H(j, n);
        if (e[i] < 0) {
          z = w;
          s = r;
        } else {
          l = i;
          if (e[i] == 0) {
            H(i, n) = w != 0 ? -r / w : -r / (eps * norm);
          } else {
            x = H(i, i + 1);
            y = H(i + 1, i);
            q = (d[i] - p) * (d[i] - p) + e[i] * e[i];
            t = (x * s - z * r) / q;
            H(i, n) = t;
            H(i + 1, n) = std::fabs(x) > std::fabs(z) ? (-r - w * t) / x : (-s - y * t) / z;
          }
          t = std::fabs(H(i, n));
          if (eps * t * t > 1) {
            for (int j = i; j <= n; j++) H(j, n) = H(j, n) / t;
          }
        }
      }
    } else if (q < 0) {
      l = n - 1;
      if (std::fabs(H(n, n - 1)) > std::fabs(H(n - 1, n))) {
        H(n - 1, n - 1) = q / H(n, n - 1);
        H(n - 1, n) = -(H(n, n) - p) / H(n, n - 1);
      } else {
        double cr, ci;
        cdiv(0, -H(n - 1, n), H(n - 1, n - 1) - p, q, cr, ci);
        H(n - 1, n - 1) = cr;
        H(n - 1, n) = ci;
      }
      H(n, n - 1) = 0;
      H(n, n) = 1;
      for (int i = n - 2; i >= 0; i--) {
        ra = 0;
        sa = 0;
        for (int j = l; j <= n; j++) {
          ra = ra + H(i, j) * H(j, n - 1);
          sa = sa + H(i, j) * H(j, n);
        }
        w = H(i, i) - p;
        if (e[i] < 0) {
          z = w;
          r = ra;
          s = sa;
        } else {
          l = i;
          double cr, ci;
          if (e[i] == 0) {
            cdiv(-ra, -sa, w, q, cr, ci);
            H(i, n - 1) = cr;
            H(i, n) = ci;
          } else {
            x = H(i, i + 1);
            y = H(i + 1, i);
            vr = (d[i] - p) * (d[i] - p) + e[i] * e[i] - q * q;
            vi = (d[i] - p) * 2 * q;
            if (vr == 0 && vi == 0)
              vr = eps * norm * (std::fabs(w) + std::fabs(q) + std::fabs(x) + std::fabs(y) + std::fabs(z));
            cdiv(x * r - z * ra + q * sa, x * s - z * sa - q * ra, vr, vi, cr, ci);
            H(i, n - 1) = cr;
            H(i, n) = ci;
            if (std::fabs(x) > std::fabs(z) + std::fabs(q)) {
              H(i + 1, n - 1) = (-ra - w * H(i, n - 1) + q * H(i, n)) / x;
              H(i + 1, n) = (-sa - w * H(i, n) - q * H(i, n - 1)) / x;
            } else {
              cdiv(-r - y * H(i, n - 1), -s - y * H(i, n), z, q, cr, ci);
              H(i + 1, n - 1) = cr;
              H(i + 1, n) = ci;
            }
          }
          t = std::max(std::fabs(H(i, n - 1)), std::fabs(H(i, n)));
          if (eps * t * t > 1) {
            for (int j = i; j <= n; j++) {
              H(j, n - 1) = H(j, n - 1) / t;
              H(j, n) = H(j, n) / t;
            }
          }
        }
      }
    }
  }

  for (int i = 0; i < nn; i++) {
    if (i < low || i > high) {
      for (int j = i; j < nn; j++) V(i, j) = H(i, j);
    }
  }

  for (int j = nn - 1; j >= low; j--) {
    for (int i = low; i <= high; i++) {
      z = 0;
      for (int k = low; k <= std::min(j, high); k++) z = z + V(i, k) * H(k, j);
      V(i, j) = z;
    }
  }
}

// ml-matrix's isSymmetric: every pair, the diagonal included, equal under === (so any NaN makes a matrix nonsymmetric).
bool exactlySymmetric(int n, const double* a) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j <= i; j++)
      if (a[std::size_t(i) * n + j] != a[std::size_t(j) * n + i]) return false;
  return true;
}

}  // namespace

bool nonsymmetricEigen(int n, const double* a, double* re, double* im, double* vectors) {
  if (exactlySymmetric(n, a)) return false;
  std::vector<double> h(a, a + std::size_t(n) * n), ort(n, 0.0);
  for (int i = 0; i < n; i++) re[i] = im[i] = 0;
  orthes(n, Square{h.data(), n}, ort.data(), Square{vectors, n});
  hqr2(n, im, re, Square{vectors, n}, Square{h.data(), n});
  return true;
}

}  // namespace modprop
