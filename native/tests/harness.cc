#include "harness.h"

#include <algorithm>
#include <sstream>

namespace harness {

std::string fmt(double v) {
  std::ostringstream o;
  o.precision(3);
  o << v;
  return o.str();
}

Net randomNet(Dims d, uint64_t seed, double alpha, double gain, double threshold) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Net net;
  net.d = d;
  net.alpha = alpha;
  net.threshold = threshold;
  const int n = d.nRec;
  net.win.resize(std::size_t(d.nIn) * n);
  for (auto& w : net.win) w = normal(rng);
  net.wrec.resize(std::size_t(n) * n);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) net.wrec[i * n + j] = i == j ? 0.0 : gain * normal(rng) / std::sqrt(double(n));
  net.wout.resize(std::size_t(n) * d.nOut);
  for (auto& w : net.wout) w = normal(rng) / std::sqrt(double(n));
  net.bout.resize(d.nOut);
  for (auto& w : net.bout) w = 0.1 * normal(rng);
  net.randomFeedback.resize(std::size_t(n) * d.nOut);
  for (auto& w : net.randomFeedback) w = normal(rng) / std::sqrt(double(n));
  net.types.resize(n);
  for (int i = 0; i < n; i++) net.types[i] = i < d.nTypes ? i : int32_t(rng() % uint64_t(d.nTypes));
  std::shuffle(net.types.begin(), net.types.end(), rng);
  return net;
}

Data randomData(const Dims& d, Loss loss, uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + 13);
  std::normal_distribution<double> normal(0.0, 1.0);
  Data data;
  data.loss = loss;
  data.x.resize(std::size_t(d.batch) * d.steps * d.nIn);
  for (auto& v : data.x) v = normal(rng);
  if (loss == Loss::XentLast) {
    data.labels.resize(d.batch);
    for (auto& l : data.labels) l = int32_t(rng() % uint64_t(d.nOut));
  } else {
    data.targets.resize(std::size_t(d.batch) * d.steps * d.nOut);
    for (auto& v : data.targets) v = normal(rng);
  }
  return data;
}

RuleSpec spec(Rule r, Feedback f, double mu, bool online, int32_t window, LearningSignal s) {
  return RuleSpec{r, f, s, mu, online, window};
}

template <typename Real>
Grads<Real> run(const Net& net, const Data& data, const RuleSpec& rule, modprop::ThreadPool& pool) {
  const std::vector<Real> win = cast<Real>(net.win), wrec = cast<Real>(net.wrec), wout = cast<Real>(net.wout),
                          bout = cast<Real>(net.bout), rfb = cast<Real>(net.randomFeedback), x = cast<Real>(data.x),
                          targets = cast<Real>(data.targets);
  modprop::ModelView<Real> model{win.data(),  wrec.data(),       wout.data(), bout.data(),
                                 rfb.data(),  net.types.data(), net.alpha,   net.threshold};
  modprop::BatchView<Real> batch{x.data(), data.labels.empty() ? nullptr : data.labels.data(),
                                 targets.empty() ? nullptr : targets.data(), data.loss};
  Grads<Real> g;
  g.win.assign(win.size(), Real(-1));
  g.wrec.assign(wrec.size(), Real(-1));
  g.wout.assign(wout.size(), Real(-1));
  g.bout.assign(bout.size(), Real(-1));
  modprop::GradView<Real> out{g.win.data(), g.wrec.data(), g.wout.data(), g.bout.data()};
  g.loss = modprop::gradients(net.d, model, batch, rule, out, pool);
  return g;
}

template Grads<float> run<float>(const Net&, const Data&, const RuleSpec&, modprop::ThreadPool&);
template Grads<double> run<double>(const Net&, const Data&, const RuleSpec&, modprop::ThreadPool&);

Grads<double> naive(const Net& net, const Data& data, const RuleSpec& rule) {
  const Dims& d = net.d;
  const int B = d.batch, T = d.steps, N = d.nRec, I = d.nIn, K = d.nOut, C = d.nTypes;
  const double a = net.alpha, thr = net.threshold;
  const bool exact = rule.rule == Rule::Bptt || rule.rule == Rule::Tbptt;
  const std::vector<double>& F =
      (!exact && rule.signal == LearningSignal::Random) ? net.randomFeedback : net.wout;
  // Wfb, N×N
  std::vector<double> wfb = net.wrec;
  if (rule.feedback == Feedback::Type) {
    std::vector<double> sum(C * C, 0.0), cnt(C, 0.0);
    for (int i = 0; i < N; i++) cnt[net.types[i]] += 1;
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) sum[net.types[i] * C + net.types[j]] += net.wrec[i * N + j];
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++)
        wfb[i * N + j] = sum[net.types[i] * C + net.types[j]] / (cnt[net.types[i]] * cnt[net.types[j]]);
  }
  Grads<double> g;
  g.win.assign(I * N, 0);
  g.wrec.assign(N * N, 0);
  g.wout.assign(N * K, 0);
  g.bout.assign(K, 0);
  auto relu1 = [&](double v) { return v - thr > 0 ? 1.0 : 0.0; };
  for (int b = 0; b < B; b++) {
    // steps 1..T; index 0 and T+1 are the zero boundaries
    std::vector<std::vector<double>> v(T + 2, std::vector<double>(N, 0)), z = v, ell = v, gg = v, signal = v, big = v,
                                                                           delta(T + 2, std::vector<double>(K, 0));
    auto xAt = [&](int t, int q) { return data.x[(std::size_t(b) * T + (t - 1)) * I + q]; };
    for (int t = 1; t <= T; t++) {
      for (int i = 0; i < N; i++) {
        double s = 0;
        for (int q = 0; q < I; q++) s += xAt(t, q) * net.win[q * N + i];
        for (int j = 0; j < N; j++) s += z[t - 1][j] * net.wrec[j * N + i];
        v[t][i] = a * v[t - 1][i] + (1 - a) * s;
        z[t][i] = std::max(v[t][i] - thr, 0.0);
      }
      std::vector<double> y(K);
      for (int k = 0; k < K; k++) {
        y[k] = net.bout[k];
        for (int i = 0; i < N; i++) y[k] += z[t][i] * net.wout[i * K + k];
      }
      if (data.loss == Loss::XentLast) {
        if (t == T) {
          double top = *std::max_element(y.begin(), y.end()), s = 0;
          for (int k = 0; k < K; k++) s += std::exp(y[k] - top);
          const int label = data.labels[b];
          for (int k = 0; k < K; k++) delta[t][k] = (std::exp(y[k] - top) / s - (k == label)) / B;
          g.loss += (std::log(s) + top - y[label]) / B;
        }
      } else {
        for (int k = 0; k < K; k++) {
          const double e = y[k] - data.targets[(std::size_t(b) * T + (t - 1)) * K + k];
          delta[t][k] = e / (B * T);
          g.loss += 0.5 * e * e / (B * T);
        }
      }
      for (int i = 0; i < N; i++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += delta[t][k] * F[i * K + k];
        ell[t][i] = relu1(v[t][i]) * s;
        signal[t][i] = s;  // unmasked, for rflo
      }
    }
    for (int t = T; t >= 1; t--) {
      for (int i = 0; i < N; i++) {
        double r = 0;
        switch (rule.rule) {
          case Rule::Bptt:
          case Rule::Tbptt:
            for (int j = 0; j < N; j++) r += gg[t + 1][j] * net.wrec[i * N + j];
            r *= relu1(v[t][i]);
            break;
          case Rule::Mdgl:
            for (int j = 0; j < N; j++) r += ell[t + 1][j] * wfb[i * N + j];
            r *= relu1(v[t][i]);
            break;
          case Rule::Modprop:
            for (int j = 0; j < N; j++) r += gg[t + 1][j] * wfb[i * N + j];
            r *= rule.mu;
            break;
          default: break;
        }
        gg[t][i] = a * gg[t + 1][i] + ell[t][i] + (1 - a) * r;
        if (rule.rule == Rule::Tbptt && t % rule.window == 0 && t < T) gg[t][i] = ell[t][i];
        if (rule.rule == Rule::Rflo) {  // G_t = α G_{t+1} + L_t, g_t = relu'(v_t) G_t
          big[t][i] = a * big[t + 1][i] + signal[t][i];
          gg[t][i] = relu1(v[t][i]) * big[t][i];
        }
      }
    }
    for (int t = 1; t <= T; t++) {
      for (int p = 0; p < N; p++)
        for (int j = 0; j < N; j++) g.wrec[p * N + j] += (1 - a) * z[t - 1][p] * gg[t][j];
      for (int q = 0; q < I; q++)
        for (int j = 0; j < N; j++) g.win[q * N + j] += (1 - a) * xAt(t, q) * gg[t][j];
      for (int p = 0; p < N; p++)
        for (int k = 0; k < K; k++) g.wout[p * K + k] += z[t][p] * delta[t][k];
      for (int k = 0; k < K; k++) g.bout[k] += delta[t][k];
    }
  }
  for (int i = 0; i < N; i++) g.wrec[i * N + i] = 0;
  return g;
}

}  // namespace harness
