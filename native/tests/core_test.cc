// Checks of the C++ core against SPEC §1–4: finite differences, a literal transcription of the equations
// (harness.cc), the identities between rules, float vs double, determinism across threads, and error handling.
// Prints one line per check and ends with "N passed, M failed". `core_test --bench` runs bench_core.cc instead.
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "../core/kernels.h"
#include "../core/model.h"
#include "../core/retained.h"
#include "../core/rules.h"
#include "../core/modal.h"
#include "../core/sampler.h"
#include "../core/ziggurat_tables.h"
#include "harness.h"
#include "../core/kernels_isa.h"

using namespace harness;
using modprop::ThreadPool;

int runBench(int argc, char** argv);

namespace {

const char* lossName(Loss l) { return l == Loss::XentLast ? "xent-last" : "mse"; }

std::string ruleLabel(const RuleSpec& r) {
  std::string s = modprop::kRules[int(r.rule)].name;
  if (r.rule == Rule::Tbptt) s += "(W=" + std::to_string(r.window) + ")";
  if (r.rule == Rule::Mdgl || r.rule == Rule::Modprop) s += r.feedback == Feedback::Type ? "/type" : "/cell";
  if (r.rule == Rule::Modprop) s += "(mu=" + fmt(r.mu) + ")";
  if (r.online) s += "/online";
  if (r.signal == LearningSignal::Random) s += "/random";
  return s;
}

std::string configLabel(const Dims& d, Loss loss, uint64_t seed) {
  return std::string(lossName(loss)) + " B" + std::to_string(d.batch) + " T" + std::to_string(d.steps) + " N" +
         std::to_string(d.nRec) + " C" + std::to_string(d.nTypes) + " seed" + std::to_string(seed);
}

std::vector<RuleSpec> allRules(int steps) {
  return {spec(Rule::Bptt),
          spec(Rule::Tbptt, Feedback::Type, 0, false, 3),
          spec(Rule::Tbptt, Feedback::Type, 0, false, 1),
          spec(Rule::Tbptt, Feedback::Type, 0, false, steps),
          spec(Rule::Eprop),
          spec(Rule::Eprop, Feedback::Type, 0, true),
          spec(Rule::Eprop, Feedback::Type, 0, false, 1, LearningSignal::Random),
          spec(Rule::Eprop, Feedback::Type, 0, true, 1, LearningSignal::Random),
          spec(Rule::Mdgl, Feedback::Type),
          spec(Rule::Mdgl, Feedback::Cell),
          spec(Rule::Mdgl, Feedback::Cell, 0, false, 1, LearningSignal::Random),
          spec(Rule::Modprop, Feedback::Type, 0.25),
          spec(Rule::Modprop, Feedback::Cell, 0.25),
          spec(Rule::Modprop, Feedback::Type, 0.25, true),
          spec(Rule::Modprop, Feedback::Type, 0.25, true, 1, LearningSignal::Random),
          spec(Rule::Bptt, Feedback::Type, 0, false, 1, LearningSignal::Random),
          spec(Rule::Rflo, Feedback::Type, 0, false, 1, LearningSignal::Random),
          spec(Rule::Rflo, Feedback::Type, 0, true, 1, LearningSignal::Random),
          spec(Rule::Rflo),
          spec(Rule::Rflo, Feedback::Type, 0, true)};
}

// Fraction of (b, t, i) with z > 0, from the core's own forward pass.
double activeFraction(const Net& net, const Data& data, ThreadPool& pool, Checks* checks = nullptr) {
  const Dims& d = net.d;
  const std::size_t s = std::size_t(d.batch) * d.steps;
  std::vector<double> v(s * d.nRec), z(s * d.nRec), y(s * d.nOut);
  modprop::ModelView<double> m{net.win.data(), net.wrec.data(), net.wout.data(), net.bout.data(),
                               nullptr,        nullptr,         net.alpha,       net.threshold};
  modprop::forward(d, m, data.x.data(), v.data(), z.data(), y.data(), pool);
  double active = 0, worst = 0;
  const int N = d.nRec, I = d.nIn, K = d.nOut, T = d.steps;
  for (int b = 0; b < d.batch; b++)
    for (int t = 0; t < T; t++) {
      const std::size_t at = std::size_t(b) * T + t;
      for (int i = 0; i < N; i++) {
        double u = 0;
        for (int q = 0; q < I; q++) u += data.x[at * I + q] * net.win[q * N + i];
        if (t > 0)
          for (int j = 0; j < N; j++) u += z[(at - 1) * N + j] * net.wrec[j * N + i];
        const double expect = (t > 0 ? net.alpha * v[(at - 1) * N + i] : 0.0) + (1 - net.alpha) * u;
        worst = std::max(worst, std::fabs(expect - v[at * N + i]));
        worst = std::max(worst, std::fabs(std::max(v[at * N + i] - net.threshold, 0.0) - z[at * N + i]));
        active += z[at * N + i] > 0;
      }
      for (int k = 0; k < K; k++) {
        double o = net.bout[k];
        for (int i = 0; i < N; i++) o += z[at * N + i] * net.wout[i * K + k];
        worst = std::max(worst, std::fabs(o - y[at * K + k]));
      }
    }
  if (checks) checks->check("forward follows SPEC §1 (" + configLabel(d, data.loss, 0) + ")", worst < 1e-12,
                            "max abs error " + fmt(worst));
  return active / double(s * N);
}

void finiteDifferences(Checks& c, ThreadPool& pool) {
  for (Loss loss : {Loss::XentLast, Loss::Mse})
    for (uint64_t seed : {1, 2, 3}) {
      Dims d{3, 12, 3, 7, 2, 2};
      const double thr = seed == 3 ? 0.1 : 0.0;
      Net net = randomNet(d, seed, 0.7, 1.5, thr);
      const Data data = randomData(d, loss, seed);
      const Grads<double> g = run<double>(net, data, spec(Rule::Bptt), pool);
      double worst = 0;
      int checked = 0;
      const double h = 1e-5;
      auto probe = [&](std::vector<double>& param, const std::vector<double>& grad, bool skipDiagonal) {
        double top = 0;
        for (double x : grad) top = std::max(top, std::fabs(x));
        for (std::size_t i = 0; i < param.size(); i++) {
          if (skipDiagonal && i / d.nRec == i % d.nRec) continue;
          const double keep = param[i];
          param[i] = keep + h;
          const double up = run<double>(net, data, spec(Rule::Bptt), pool).loss;
          param[i] = keep - h;
          const double down = run<double>(net, data, spec(Rule::Bptt), pool).loss;
          param[i] = keep;
          const double fd = (up - down) / (2 * h);
          worst = std::max(worst, std::fabs(fd - grad[i]) / std::max(std::fabs(grad[i]), 1e-2 * top));
          checked++;
        }
      };
      probe(net.win, g.win, false);
      probe(net.wrec, g.wrec, true);
      probe(net.wout, g.wout, false);
      probe(net.bout, g.bout, false);
      c.check("bptt == central finite differences (" + configLabel(d, loss, seed) + ", thr " + fmt(thr) + ", " +
                  std::to_string(checked) + " entries)",
              worst <= 1e-6, "max rel error " + fmt(worst));
    }
}

void againstTranscription(Checks& c, ThreadPool& pool) {
  for (Loss loss : {Loss::XentLast, Loss::Mse})
    for (int types : {1, 2, 3})
      for (uint64_t seed : {11, 12}) {
        Dims d{3, 12, 3, 7, 2, types};
        const Net net = randomNet(d, seed * 10 + types);
        const Data data = randomData(d, loss, seed);
        const double active = activeFraction(net, data, pool, seed == 11 && types == 1 ? &c : nullptr);
        c.check("some units active, some silent (" + configLabel(d, loss, seed) + ")", active > 0.1 && active < 0.9,
                "active fraction " + fmt(active));
        for (const RuleSpec& r : allRules(d.steps)) {
          const Grads<double> got = run<double>(net, data, r, pool);
          const Grads<double> want = naive(net, data, r);
          const double err = std::max(maxRelDiff(got, want), std::fabs(got.loss - want.loss) / want.loss);
          c.check(ruleLabel(r) + " == SPEC transcription (" + configLabel(d, loss, seed) + ")", err <= 1e-10,
                  "rel error " + fmt(err));
        }
      }
}

void identities(Checks& c, ThreadPool& pool) {
  for (Loss loss : {Loss::XentLast, Loss::Mse})
    for (uint64_t seed : {21, 22}) {
      Dims d{3, 12, 3, 7, 2, 2};
      const Net net = randomNet(d, seed);
      const Data data = randomData(d, loss, seed);
      const std::string cfg = " (" + configLabel(d, loss, seed) + ")";
      const auto eprop = run<double>(net, data, spec(Rule::Eprop), pool);
      const auto bptt = run<double>(net, data, spec(Rule::Bptt), pool);
      for (Feedback f : {Feedback::Type, Feedback::Cell}) {
        const auto m0 = run<double>(net, data, spec(Rule::Modprop, f, 0.0), pool);
        c.check(std::string("modprop mu=0 == eprop, feedback ") + (f == Feedback::Type ? "type" : "cell") + cfg,
                maxRelDiff(m0, eprop) <= 1e-12, fmt(maxRelDiff(m0, eprop)));
      }
      const auto m0online = run<double>(net, data, spec(Rule::Modprop, Feedback::Type, 0.0, true), pool);
      c.check("modprop online mu=0 == eprop" + cfg, maxRelDiff(m0online, eprop) <= 1e-12,
              fmt(maxRelDiff(m0online, eprop)));
      for (const RuleSpec& online : {spec(Rule::Eprop, Feedback::Type, 0, true),
                                     spec(Rule::Modprop, Feedback::Type, 0.25, true)}) {
        RuleSpec offline = online;
        offline.online = false;
        const double e = maxRelDiff(run<double>(net, data, online, pool), run<double>(net, data, offline, pool));
        c.check(ruleLabel(online) + " == offline" + cfg, e <= 1e-10, fmt(e));
      }
      {
        Net flat = net;
        std::fill(flat.wrec.begin(), flat.wrec.end(), 0.0);
        for (Feedback f : {Feedback::Type, Feedback::Cell}) {
          const double e =
              maxRelDiff(run<double>(flat, data, spec(Rule::Mdgl, f), pool), run<double>(flat, data, spec(Rule::Eprop), pool));
          c.check(std::string("mdgl with Wrec = 0 == eprop, feedback ") + (f == Feedback::Type ? "type" : "cell") + cfg,
                  e <= 1e-12, fmt(e));
        }
      }
      for (int w : {d.steps, d.steps + 5}) {
        const auto t = run<double>(net, data, spec(Rule::Tbptt, Feedback::Type, 0, false, w), pool);
        const bool same = std::memcmp(t.wrec.data(), bptt.wrec.data(), t.wrec.size() * sizeof(double)) == 0 &&
                          std::memcmp(t.win.data(), bptt.win.data(), t.win.size() * sizeof(double)) == 0;
        c.check("tbptt window " + std::to_string(w) + " ≥ T == bptt (bit-identical)" + cfg, same);
      }
      {
        const auto t3 = run<double>(net, data, spec(Rule::Tbptt, Feedback::Type, 0, false, 3), pool);
        c.check("tbptt window 3 < T differs from bptt" + cfg, maxRelDiff(t3, bptt) > 1e-6, fmt(maxRelDiff(t3, bptt)));
        const auto t1 = run<double>(net, data, spec(Rule::Tbptt, Feedback::Type, 0, false, 1), pool);
        c.check("tbptt window 1 differs from eprop (g_t = ℓ_t vs α g_{t+1} + ℓ_t)" + cfg,
                maxRelDiff(t1, eprop) > 1e-6, fmt(maxRelDiff(t1, eprop)));
      }
      for (double mu : {0.1, 0.25}) {
        const auto m = run<double>(net, data, spec(Rule::Modprop, Feedback::Type, mu), pool);
        c.check("modprop mu=" + fmt(mu) + " differs from eprop" + cfg, relDiff(m.wrec, eprop.wrec) > 1e-6,
                fmt(relDiff(m.wrec, eprop.wrec)));
      }
      const auto mdgl = run<double>(net, data, spec(Rule::Mdgl, Feedback::Cell), pool);
      c.check("mdgl differs from eprop" + cfg, relDiff(mdgl.wrec, eprop.wrec) > 1e-6, fmt(relDiff(mdgl.wrec, eprop.wrec)));
      const auto rnd = run<double>(net, data, spec(Rule::Eprop, Feedback::Type, 0, false, 1, LearningSignal::Random), pool);
      c.check("random learning signal changes eprop" + cfg, relDiff(rnd.wrec, eprop.wrec) > 1e-6);
      const auto bpttRnd = run<double>(net, data, spec(Rule::Bptt, Feedback::Type, 0, false, 1, LearningSignal::Random), pool);
      c.check("bptt ignores the learning-signal option" + cfg, maxRelDiff(bpttRnd, bptt) == 0);
      for (const RuleSpec& r : allRules(d.steps)) {
        const auto g = run<double>(net, data, r, pool);
        bool diagonalZero = true;
        for (int i = 0; i < d.nRec; i++) diagonalZero = diagonalZero && g.wrec[i * d.nRec + i] == 0;
        c.check(ruleLabel(r) + ": every gradient non-zero, diagonal of dWrec zero" + cfg,
                norm(g.win) > 0 && norm(g.wrec) > 0 && norm(g.wout) > 0 && norm(g.bout) > 0 && diagonalZero);
      }
      // tbptt window 1, xent-last: g_t = 0 before T and g_T = ℓ_T, so dWrec = (1-α) z_{T-1}ᵀ ℓ_T — checked against
      // the transcription's bptt pieces computed independently here.
      if (loss == Loss::XentLast) {
        const auto t1 = run<double>(net, data, spec(Rule::Tbptt, Feedback::Type, 0, false, 1), pool);
        Net withT = net;
        const auto e1 = naive(withT, data, spec(Rule::Tbptt, Feedback::Type, 0, false, 1));
        c.check("tbptt window 1 == transcription" + cfg, maxRelDiff(t1, e1) <= 1e-10);
      }
    }
}

void precision(Checks& c, ThreadPool& pool) {
  struct Case { Dims d; uint64_t seed; };
  for (const Case& k : {Case{{3, 12, 3, 7, 2, 2}, 31}, Case{{4, 30, 3, 21, 3, 3}, 32}, Case{{5, 40, 4, 40, 2, 2}, 33}})
    for (Loss loss : {Loss::XentLast, Loss::Mse}) {
      const Net net = randomNet(k.d, k.seed);
      const Data data = randomData(k.d, loss, k.seed);
      for (const RuleSpec& r : allRules(k.d.steps)) {
        const double e = maxRelDiff(run<float>(net, data, r, pool), run<double>(net, data, r, pool));
        c.check("float ≈ double, " + ruleLabel(r) + " (" + configLabel(k.d, loss, k.seed) + ")", e <= 1e-4, fmt(e));
      }
    }
}

void threads(Checks& c) {
  ThreadPool one(1), two(2), three(3);
  for (Loss loss : {Loss::XentLast, Loss::Mse}) {
    Dims d{8, 40, 3, 40, 2, 2};
    const Net net = randomNet(d, 41);
    const Data data = randomData(d, loss, 41);
    for (const RuleSpec& r : {spec(Rule::Bptt), spec(Rule::Modprop, Feedback::Type, 0.25),
                              spec(Rule::Modprop, Feedback::Type, 0.25, true), spec(Rule::Eprop, Feedback::Type, 0, true),
                              spec(Rule::Mdgl, Feedback::Cell), spec(Rule::Rflo, Feedback::Type, 0, true)}) {
      const auto a = run<float>(net, data, r, two), b = run<float>(net, data, r, two);
      const bool same = a.loss == b.loss && a.win == b.win && a.wrec == b.wrec && a.wout == b.wout && a.bout == b.bout;
      c.check("2 threads twice: bit-identical, " + ruleLabel(r) + " " + lossName(loss), same);
      const double e = maxRelDiff(run<float>(net, data, r, one), a);
      c.check("1 vs 2 threads agree, " + ruleLabel(r) + " " + lossName(loss), e <= 1e-5, fmt(e));
      const double e3 = maxRelDiff(run<double>(net, data, r, three), naive(net, data, r));
      c.check("3 threads over batch 8 == transcription, " + ruleLabel(r) + " " + lossName(loss), e3 <= 1e-10, fmt(e3));
    }
  }
  Dims d{1, 10, 2, 9, 2, 2};
  const Net net = randomNet(d, 42);
  const Data data = randomData(d, Loss::Mse, 42);
  const double e = maxRelDiff(run<double>(net, data, spec(Rule::Bptt), two), naive(net, data, spec(Rule::Bptt)));
  c.check("more threads than sequences (B = 1, 2 threads)", e <= 1e-10, fmt(e));
  // Exceptions inside tasks reach the caller and leave the pool usable.
  bool threw = false;
  try {
    two.parallelFor(4, [](int t) {
      if (t == 2) throw std::runtime_error("boom");
    });
  } catch (const std::runtime_error&) {
    threw = true;
  }
  int count = 0;
  std::mutex mu;
  two.parallelFor(5, [&](int) {
    std::lock_guard<std::mutex> l(mu);
    count++;
  });
  c.check("thread pool rethrows task exceptions and stays usable", threw && count == 5);
}

void errors(Checks& c, ThreadPool& pool) {
  Dims d{3, 12, 3, 7, 2, 2};
  const Net net = randomNet(d, 51);
  const Data data = randomData(d, Loss::XentLast, 51);
  auto expectError = [&](const std::string& name, const std::function<void()>& f, const std::string& contains) {
    std::string msg;
    bool ok = false;
    try {
      f();
    } catch (const modprop::Error& e) {
      msg = e.what();
      ok = msg.find(contains) != std::string::npos;
    } catch (const std::exception& e) {
      msg = std::string("wrong exception type: ") + e.what();
    }
    c.check("throws modprop::Error: " + name, ok, msg);
  };
  auto withDims = [&](Dims bad) {
    Net n = net;
    n.d = bad;
    return [n, &data, &pool] { run<double>(n, data, spec(Rule::Bptt), pool); };
  };
  expectError("batch 0", withDims({0, 12, 3, 7, 2, 2}), "dims.batch");
  expectError("steps -1", withDims({3, -1, 3, 7, 2, 2}), "dims.steps");
  expectError("nRec 0", withDims({3, 12, 3, 0, 2, 2}), "dims.nRec");
  expectError("nTypes 0 with type feedback",
              [&] {
                Net n = net;
                n.d.nTypes = 0;
                run<double>(n, data, spec(Rule::Modprop), pool);
              },
              "dims.nTypes");
  expectError("overflowing dims", withDims({2000000000, 2000000000, 3, 2000000000, 2, 2}), "overflows");
  expectError("rtrl", [&] { run<double>(net, data, spec(Rule::Rtrl), pool); },
              "rule 'rtrl' is only available in the reference engine");
  expectError("rule id 9", [&] { run<double>(net, data, spec(Rule(9)), pool); }, "rule id");
  expectError("online bptt", [&] { run<double>(net, data, spec(Rule::Bptt, Feedback::Type, 0, true), pool); }, "online");
  expectError("online mdgl", [&] { run<double>(net, data, spec(Rule::Mdgl, Feedback::Type, 0, true), pool); }, "online");
  expectError("online modprop with cell feedback",
              [&] { run<double>(net, data, spec(Rule::Modprop, Feedback::Cell, 0.25, true), pool); }, "feedback 'cell'");
  expectError("tbptt window 0", [&] { run<double>(net, data, spec(Rule::Tbptt, Feedback::Type, 0, false, 0), pool); },
              "window");
  expectError("label out of range",
              [&] {
                Data bad = data;
                bad.labels[1] = 2;
                run<double>(net, bad, spec(Rule::Bptt), pool);
              },
              "labels[1]");
  expectError("negative label",
              [&] {
                Data bad = data;
                bad.labels[0] = -1;
                run<double>(net, bad, spec(Rule::Eprop, Feedback::Type, 0, true), pool);
              },
              "labels[0]");
  expectError("missing labels",
              [&] {
                Data bad = data;
                bad.labels.clear();
                run<double>(net, bad, spec(Rule::Bptt), pool);
              },
              "labels");
  expectError("missing targets for mse",
              [&] {
                Data bad = data;
                bad.loss = Loss::Mse;
                run<double>(net, bad, spec(Rule::Bptt), pool);
              },
              "targets");
  expectError("type id out of range",
              [&] {
                Net bad = net;
                bad.types[3] = 2;
                run<double>(bad, data, spec(Rule::Modprop), pool);
              },
              "types[3]");
  expectError("NaN in x",
              [&] {
                Data bad = data;
                bad.x[5] = std::nan("");
                run<double>(net, bad, spec(Rule::Bptt), pool);
              },
              "x");
  expectError("Inf in wrec",
              [&] {
                Net bad = net;
                bad.wrec[4] = INFINITY;
                run<double>(bad, data, spec(Rule::Bptt), pool);
              },
              "wrec");
  expectError("unstable ModProp filter",
              [&] {
                Net bad = net;
                for (int i = 0; i < 7; i++)
                  for (int j = 0; j < 7; j++) bad.wrec[i * 7 + j] = i == j ? 0 : 1.0;
                run<float>(bad, data, spec(Rule::Modprop, Feedback::Type, 1.0, true), pool);
              },
              "spectral radius");
  expectError("alpha outside [0, 1]",
              [&] {
                Net bad = net;
                bad.alpha = 1.5;
                run<double>(bad, data, spec(Rule::Bptt), pool);
              },
              "alpha");
}

void spectralRadius(Checks& c) {
  // Gelfand's formula (C ≥ 3) against the closed form on block-diagonal matrices with a known radius.
  std::mt19937_64 rng(61);
  std::normal_distribution<double> normal(0, 1);
  double worst = 0;
  for (int trial = 0; trial < 50; trial++) {
    std::vector<double> a2 = {normal(rng), normal(rng), normal(rng), normal(rng)};
    const double s = normal(rng);
    std::vector<double> m3 = {a2[0], a2[1], 0, a2[2], a2[3], 0, 0, 0, s};
    const double want = std::max(modprop::spectralRadius(a2, 2), std::fabs(s));
    worst = std::max(worst, std::fabs(modprop::spectralRadius(m3, 3) - want) / want);
  }
  c.check("spectral radius, C = 3 (squaring) == closed form", worst <= 1e-9, fmt(worst));
  // A rotation by 90° scaled by 0.5 (complex pair) and a Jordan block.
  c.check("spectral radius of a complex pair", std::fabs(modprop::spectralRadius({0, -0.5, 0.5, 0}, 2) - 0.5) < 1e-15);
  const double jordan = modprop::spectralRadius({0.9, 1, 0, 0, 0.9, 1, 0, 0, 0.9}, 3);
  c.check("spectral radius of a Jordan block", std::fabs(jordan - 0.9) < 1e-9, fmt(jordan));
}

void typeMeans(Checks& c) {
  // typeBlockMeans sums each block as one chain of double additions over p, then j, in index order (its runs of
  // equal column types are summed in registers): the bits of the plain entry-by-entry loop, for blocked, interleaved,
  // one-per-unit and random type layouts (with an empty type), in float and double.
  const int n = 203;
  std::mt19937_64 rng(63);
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> wd(std::size_t(n) * n);
  for (double& v : wd) v = normal(rng) * (1 + 1e3 * (rng() % 7 == 0));  // some large entries: rounding matters
  std::vector<float> wf(wd.begin(), wd.end());
  struct Layout { const char* name; int c; std::function<int(int)> type; };
  const Layout layouts[] = {
      {"E/I blocks", 2, [](int p) { return p < 162 ? 0 : 1; }},
      {"interleaved", 3, [](int p) { return p % 3; }},
      {"one per unit", n, [](int p) { return p; }},
      {"random, one type empty", 5, [&](int) { const int t = int(rng() % 4); return t == 2 ? 4 : t; }},
  };
  for (const Layout& l : layouts) {
    std::vector<int32_t> types(n);
    for (int p = 0; p < n; p++) types[p] = l.type(p);
    const modprop::Dims d{1, 1, 1, n, 1, l.c};
    auto check = [&](auto* w, const char* real) {
      using Real = std::remove_const_t<std::remove_pointer_t<decltype(w)>>;
      modprop::ModelView<Real> view{nullptr, w, nullptr, nullptr, nullptr, types.data(), 0.5, 0.0};
      const std::vector<double> got = modprop::typeBlockMeans(d, view);
      std::vector<double> sums(std::size_t(l.c) * l.c, 0.0), counts(l.c, 0.0);
      for (int p = 0; p < n; p++) {
        counts[types[p]] += 1;
        for (int j = 0; j < n; j++) sums[std::size_t(types[p]) * l.c + types[j]] += double(w[std::size_t(p) * n + j]);
      }
      bool same = got.size() == sums.size(), nonzero = false;
      for (std::size_t k = 0; same && k < sums.size(); k++) {
        const double cells = counts[k / l.c] * counts[k % l.c];
        const double want = cells > 0 ? sums[k] / cells : 0.0;
        same = std::memcmp(&got[k], &want, sizeof want) == 0;
        nonzero = nonzero || want != 0;
      }
      c.check(std::string("type block means, ") + l.name + " (" + real + "): the plain loop's bits", same && nonzero);
    };
    check(static_cast<const double*>(wd.data()), "double");
    check(static_cast<const float*>(wf.data()), "float");
  }
}

void krylov(Checks& c, ThreadPool& pool) {
  // One Arnoldi cycle: the basis stays orthonormal, A·V = V·H + β·v_{m+1}·e_mᵀ holds, and a rank-one matrix breaks
  // down at the second vector (A·v lies in span(u), so span(v₀, u) is invariant).
  const int n = 300, m = 20;
  std::mt19937_64 rng(62);
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> a(std::size_t(n) * n), basis(std::size_t(m + 1) * n), h(std::size_t(m + 1) * m, 0.0);
  for (double& v : a) v = normal(rng) / std::sqrt(double(n));
  for (int i = 0; i < n; i++) basis[i] = 1 / std::sqrt(double(n));
  const int size = modprop::krylovCycle(a.data(), n, m, 0, basis.data(), h.data(), 0, pool);
  double orth = 0, relation = 0;
  for (int i = 0; i <= m; i++)
    for (int j = 0; j <= m; j++) {
      double d = 0;
      for (int k = 0; k < n; k++) d += basis[std::size_t(i) * n + k] * basis[std::size_t(j) * n + k];
      orth = std::max(orth, std::fabs(d - (i == j ? 1 : 0)));
    }
  for (int j = 0; j < m; j++)
    for (int r = 0; r < n; r++) {
      double av = 0, vh = 0;
      for (int k = 0; k < n; k++) av += a[std::size_t(r) * n + k] * basis[std::size_t(j) * n + k];
      for (int i = 0; i <= j + 1; i++) vh += basis[std::size_t(i) * n + r] * h[std::size_t(i) * m + j];
      relation = std::max(relation, std::fabs(av - vh));
    }
  c.check("Arnoldi cycle: full size, orthonormal basis", size == m && orth < 1e-12, fmt(orth));
  c.check("Arnoldi cycle: A·V = V·H", relation < 1e-12, fmt(relation));
  for (int r = 0; r < n; r++)
    for (int k = 0; k < n; k++) a[std::size_t(r) * n + k] = (r % 3 + 1.0) * (k % 5 + 1.0);
  std::fill(h.begin(), h.end(), 0.0);
  const int rankOne = modprop::krylovCycle(a.data(), n, m, 0, basis.data(), h.data(), 1e-10, pool);
  c.check("Arnoldi cycle: a rank-one matrix breaks down at size 2", rankOne == 2, std::to_string(rankOne));
}

}  // namespace

void panels(Checks& c) {
  // The step reading Wrec from packed panels gives the bits of the step reading it in place, at sizes with a partial
  // last panel and with silent (skipped) units, for every row-tile edge.
  for (int n : {517, 1024}) {
    std::mt19937_64 rng(63 + n);
    std::normal_distribution<float> normal(0, 1);
    const int rows = 13, nIn = 3;
    std::vector<float> wrec(std::size_t(n) * n), win(std::size_t(nIn) * n), x(std::size_t(rows) * nIn), zPrev(std::size_t(rows) * n),
        vPrev(zPrev.size());
    for (float& w : wrec) w = normal(rng) / std::sqrt(float(n));
    for (float& w : win) w = normal(rng);
    for (float& w : x) w = normal(rng);
    for (std::size_t i = 0; i < zPrev.size(); i++) {
      vPrev[i] = normal(rng);
      zPrev[i] = i % n < std::size_t(n) / 3 ? 0.0f : std::max(0.0f, vPrev[i]);  // a third of the units silent everywhere
    }
    const modprop::Retained<float> packed = modprop::kernels::packPanels(wrec.data(), n, n);
    std::vector<float> v1(zPrev.size()), z1(zPrev.size()), v2(zPrev.size()), z2(zPrev.size());
    modprop::kernels::StepBlock b{rows, n, nIn, x.data(), nIn, win.data(), zPrev.data(), vPrev.data(), n, wrec.data(),
                                  0.9f, 0.1f, 0.2f, v1.data(), z1.data(), n};
    const bool simd = modprop::kernels::fusedStep(b);
    b.v = v2.data();
    b.z = z2.data();
    b.wrecPanels = packed.empty() ? nullptr : packed.data();
    modprop::kernels::fusedStep(b);
    const bool same = std::memcmp(v1.data(), v2.data(), v1.size() * sizeof(float)) == 0 &&
                      std::memcmp(z1.data(), z2.data(), z1.size() * sizeof(float)) == 0;
    c.check("step from packed Wrec panels == step from Wrec in place, bit for bit, N = " + std::to_string(n),
            !simd || (same && !packed.empty()), simd ? "simd" : "plain loops (nothing packed)");
    if (packed.empty()) continue;
    // The reverse product g @ Wrecᵀ from panels (wrec stands in for Wrecᵀ: any k×n matrix will do).
    std::vector<float> c1(zPrev.size()), c2(zPrev.size());
    modprop::kernels::matmul<float>(rows, n, n, zPrev.data(), n, wrec.data(), n, c1.data(), n, false);
    modprop::kernels::matmulPanels(rows, n, n, zPrev.data(), n, packed.data(), c2.data(), n);
    c.check("product from packed panels == product in place, bit for bit, N = " + std::to_string(n),
            std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
  }
}

void nonzeroColumns(Checks& c) {
  // Kernels::nonzeroColumns of each instruction set the CPU runs == a plain scan: the columns not zero on every row,
  // ascending; NaN non-zero, −0 zero; the padding after each row's `cols` (non-zero here) never read; widths around
  // the vector width and past one pass of column groups (AVX-512: 64 × 16 = 1024).
#ifdef MODPROP_X86_SIMD
  namespace k = modprop::kernels;
  std::vector<std::pair<const char*, const k::isa::Kernels*>> tables;
  if (k::simdLevel() >= k::Simd::Avx2) tables.push_back({"avx2", &k::isa::kAvx2});
  if (k::simdLevel() >= k::Simd::Avx512) tables.push_back({"avx512", &k::isa::kAvx512});
  std::mt19937_64 rng(97);
  std::uniform_real_distribution<float> u(0, 1);
  for (const auto& [name, f] : tables) {
    bool same = true;
    std::string where;
    int cases = 0, nonzeroSeen = 0;
    for (int cols : {1, 7, 8, 9, 15, 16, 17, 33, 120, 1029, 2100})
      for (int rows : {1, 3, 48, 192})
        for (double density : {0.0, 0.02, 0.4}) {
          const int lda = cols + 5;
          std::vector<float> a(std::size_t(rows) * lda);
          for (int r = 0; r < rows; r++)
            for (int q = 0; q < lda; q++) {
              float& x = a[std::size_t(r) * lda + q];
              const float p = u(rng);
              x = q >= cols ? 1.0f : p < density ? (p < density / 4 ? NAN : p) : (p < 0.5f ? -0.0f : 0.0f);
            }
          std::vector<int> expected;
          for (int q = 0; q < cols; q++) {
            bool any = false;
            for (int r = 0; r < rows; r++) any = any || !(a[std::size_t(r) * lda + q] == 0.0f);
            if (any) expected.push_back(q);
          }
          std::vector<int> got(cols + 1, -1);
          const int n = f->nonzeroColumns(a.data(), rows, cols, lda, got.data());
          got.resize(n);
          cases++;
          nonzeroSeen += n;
          if (got != expected && same) {
            same = false;
            where = "cols " + std::to_string(cols) + ", rows " + std::to_string(rows) + ", density " + fmt(density) +
                    ": " + std::to_string(n) + " columns against " + std::to_string(expected.size());
          }
        }
    c.check(std::string("nonzeroColumns (") + name + ") == a plain scan (" + std::to_string(cases) + " cases, " +
                std::to_string(nonzeroSeen) + " non-zero columns in all)",
            same && nonzeroSeen > 0, where);
  }
  if (tables.empty()) c.check("nonzeroColumns: no SIMD kernels on this CPU (nothing to compare)", true);
#else
  c.check("nonzeroColumns: built without SIMD kernels (nothing to compare)", true);
#endif
}

// The AVX-512 and AVX2 kernels compute each element as the same sequence of single-precision multiply-adds, so they
// give the same bits (the rate fingerprints are recorded once for both levels). Compared directly at every width
// N = 1…100 and several row counts: every column tail, AVX-512's 8-lane last blocks (N mod 48 in 1…8 and 17…24)
// included; matmul (fresh and accumulating), transA and the fused step, with ReLU-style zeros in A. AVX-512's forms
// that read W from its packed panels (matmulPanels, the step with wrecPanels; the 8-lane blocks read the same
// 48-wide panels) are compared with its in-place forms, which the AVX2 comparison pins down.
void isaKernelsAgree(Checks& c) {
#ifdef MODPROP_X86_SIMD
  namespace k = modprop::kernels;
  if (k::simdLevel() < k::Simd::Avx512) {
    c.check("AVX-512 == AVX2 kernels: no AVX-512 on this CPU (nothing to compare)", true);
    return;
  }
  const k::isa::Kernels& wide = k::isa::kAvx512;
  const k::isa::Kernels& narrow = k::isa::kAvx2;
  std::mt19937_64 rng(131);
  std::normal_distribution<float> nd;
  std::uniform_real_distribution<float> u(0, 1);
  bool same = true;
  std::string where;
  int cases = 0;
  double magnitude = 0;
  auto compare = [&](const char* what, int n, int rows, const std::vector<float>& x, const std::vector<float>& y) {
    cases++;
    for (float v : x) magnitude += std::fabs(v);
    if (same && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) != 0) {
      same = false;
      where = std::string(what) + " at N = " + std::to_string(n) + ", rows = " + std::to_string(rows);
    }
  };
  for (int n = 1; n <= 100; n++)
    for (int rows : {1, 5, 8, 19}) {
      std::vector<float> a(std::size_t(rows) * n), w(std::size_t(n) * n), g(std::size_t(rows) * n), x(std::size_t(rows) * 2),
          win(2 * std::size_t(n)), vPrev(std::size_t(rows) * n);
      for (float& v : a) v = u(rng) < 0.4f ? 0.0f : std::fabs(nd(rng));
      for (auto* vec : {&w, &g, &x, &win, &vPrev})
        for (float& v : *vec) v = nd(rng);
      std::vector<int> all(n);
      for (int q = 0; q < n; q++) all[q] = q;
      const int inputs[2] = {0, 1};
      const modprop::Retained<float> packed = k::packPanels(w.data(), n, n);
      for (const bool accumulate : {false, true}) {
        std::vector<float> c1(std::size_t(rows) * n, 0.5f), c2 = c1, c3 = c1;
        wide.matmul(rows, n, all.data(), n, a.data(), n, w.data(), n, c1.data(), n, accumulate);
        narrow.matmul(rows, n, all.data(), n, a.data(), n, w.data(), n, c2.data(), n, accumulate);
        wide.matmulPanels(rows, n, n, all.data(), n, a.data(), n, packed.data(), c3.data(), n, accumulate);
        compare(accumulate ? "matmul (accumulating)" : "matmul", n, rows, c1, c2);
        compare(accumulate ? "matmulPanels (accumulating) against matmul" : "matmulPanels against matmul", n, rows, c3, c1);
      }
      {
        std::vector<float> c1(std::size_t(n) * n, 0.25f), c2 = c1;
        wide.transA(rows, n, all.data(), n, a.data(), n, g.data(), n, c1.data(), n);
        narrow.transA(rows, n, all.data(), n, a.data(), n, g.data(), n, c2.data(), n);
        compare("transA", n, rows, c1, c2);
      }
      {
        std::vector<float> v1(std::size_t(rows) * n), z1(v1.size()), v2(v1.size()), z2(v1.size());
        k::StepBlock b{rows, n, 2, x.data(), 2, win.data(), a.data(), vPrev.data(), n, w.data(), 0.9f, 0.1f, 0.05f,
                       v1.data(), z1.data(), n};
        wide.step(b, all.data(), n, inputs);
        b.v = v2.data();
        b.z = z2.data();
        narrow.step(b, all.data(), n, inputs);
        compare("step (v)", n, rows, v1, v2);
        compare("step (z)", n, rows, z1, z2);
        std::vector<float> v3(v1.size()), z3(v1.size());
        b.v = v3.data();
        b.z = z3.data();
        b.wrecPanels = packed.data();
        wide.step(b, all.data(), n, inputs);
        compare("step from panels (v) against in place", n, rows, v3, v1);
        compare("step from panels (z) against in place", n, rows, z3, z1);
      }
    }
  c.check("AVX-512 == AVX2 kernels bit for bit (matmul, transA, fused step; from panels too; N = 1…100, 1–19 rows; " +
              std::to_string(cases) + " comparisons)",
          same && magnitude > 0, where);
#else
  c.check("AVX-512 == AVX2 kernels: built without SIMD kernels (nothing to compare)", true);
#endif
}

void retainedCache(Checks& c) {
  // A large buffer returned by one call is the next call's, zeroed; a small one is not cached; the cache never holds
  // more than its budget.
  namespace r = modprop::retained;
  const std::size_t before = r::cachedBytes();
  const std::size_t count = (std::size_t(8) << 20) / sizeof(float);
  const float* first = nullptr;
  {
    modprop::Retained<float> a(count);
    first = a.data();
    for (std::size_t i = 0; i < count; i += 4096) a[i] = 7.0f;
  }
  c.check("a returned 8 MB buffer is cached", r::cachedBytes() == before + count * sizeof(float));
  {
    modprop::Retained<float> b(count - 100);
    bool zero = true;
    for (std::size_t i = 0; i < b.size(); i++) zero = zero && b[i] == 0.0f;
    c.check("the next request of about that size reuses it, zeroed", b.data() == first && zero && r::cachedBytes() == before);
    modprop::Retained<float> tiny(count / 4);
    c.check("a request under half its size does not take it", tiny.data() != first);
  }
  { modprop::Retained<float> small(1000); }
  c.check("a small buffer is not cached", r::cachedBytes() <= before + count * sizeof(float) * 2);
  {
    std::vector<modprop::Retained<char>> many;
    for (int i = 0; i < 12; i++) many.emplace_back(std::size_t(64) << 20);
  }
  c.check("the cache keeps at most its budget", r::cachedBytes() <= r::kCacheBytes && r::cachedBytes() > 0);
}

// modal.h: Φ V = V Λ and V V⁻¹ = I to rounding on random, rotation and repeated-eigenvalue matrices; a Jordan block has
// no eigenbasis (condition ∞) but its eigenvalue is still found.
void modalForms(Checks& c) {
  auto residuals = [](const std::vector<double>& a, const modprop::ModalForm& m, double& eig, double& inv) {
    const int n = m.c;
    double an = 0, res = 0, id = 0;
    for (double x : a) an += x * x;
    for (int r = 0; r < n; r++)
      for (int k = 0; k < n; k++) {
        double sr = 0, si = 0, pr = 0, pi = 0;
        for (int j = 0; j < n; j++) {
          sr += a[r * n + j] * m.vre[j * n + k];
          si += a[r * n + j] * m.vim[j * n + k];
          pr += m.vre[r * n + j] * m.wre[j * n + k] - m.vim[r * n + j] * m.wim[j * n + k];
          pi += m.vre[r * n + j] * m.wim[j * n + k] + m.vim[r * n + j] * m.wre[j * n + k];
        }
        const double vr = m.vre[r * n + k], vi = m.vim[r * n + k];
        sr -= vr * m.lre[k] - vi * m.lim[k];
        si -= vr * m.lim[k] + vi * m.lre[k];
        res += sr * sr + si * si;
        pr -= r == k ? 1 : 0;
        id += pr * pr + pi * pi;
      }
    eig = std::sqrt(res / an);
    inv = std::sqrt(id);
  };
  std::mt19937_64 g(5);
  std::normal_distribution<double> nd;
  for (const bool real : {true, false})
    for (int n : {3, 7, 60, 130}) {
      std::vector<double> a(std::size_t(n) * n);
      for (double& x : a) x = nd(g) / std::sqrt(double(n));
      const modprop::ModalForm m = modprop::modalForm(a, n, real);
      double eig = 1, inv = 1;
      if (m.ok) residuals(a, m, eig, inv);
      bool complexPair = false;  // the complex case exercised (a small random matrix may have only real eigenvalues)
      for (int k = 0; k < n; k++) complexPair = complexPair || std::fabs(m.lim[k]) > 1e-3;
      c.check("modal form of a random " + std::to_string(n) + "×" + std::to_string(n) + " matrix (" +
                  (real ? "real" : "complex") + " iteration): ΦV = VΛ, VV⁻¹ = I",
              m.ok && eig < 1e-12 && inv < 1e-10 * n && std::isfinite(m.condition) && (complexPair || n < 7));
    }
  {  // keptModes: one mode per conjugate pair at weight 2 rebuilds the real matrix, Σ_q weight Re(V_q λ_q W_q) = Φ
    const int n = 60;
    std::vector<double> a(std::size_t(n) * n);
    for (double& x : a) x = nd(g) / std::sqrt(double(n));
    const modprop::ModalForm m = modprop::modalForm(a, n);
    const modprop::ModalModes k = modprop::keptModes(m);
    int reals = 0;
    for (int i = 0; i < n; i++) reals += std::fabs(m.lim[i]) <= 1e-12 ? 1 : 0;
    double err = 0, an = 0;
    for (int r = 0; r < n; r++)
      for (int col = 0; col < n; col++) {
        double sum = 0;
        for (int q = 0; q < k.modes; q++) {
          const double vr = k.vre[r * k.modes + q], vi = k.vim[r * k.modes + q];
          const double lr = vr * k.lre[q] - vi * k.lim[q], li = vr * k.lim[q] + vi * k.lre[q];
          sum += k.weight[q] * (lr * k.wre[q * n + col] - li * k.wim[q * n + col]);
        }
        err += (sum - a[r * n + col]) * (sum - a[r * n + col]);
        an += a[r * n + col] * a[r * n + col];
      }
    c.check("keptModes of a random 60×60 matrix: (C + real eigenvalues) / 2 modes rebuild it",
            k.modes == (n + reals) / 2 && k.modes < n && std::sqrt(err / an) < 1e-12);
  }
  {  // a rotation by 0.3 rad scaled by 0.9: λ = 0.9 e^{±0.3i}
    const double cs = 0.9 * std::cos(0.3), sn = 0.9 * std::sin(0.3);
    const modprop::ModalForm m = modprop::modalForm({cs, -sn, sn, cs}, 2);
    const double lo = std::min(m.lim[0], m.lim[1]), hi = std::max(m.lim[0], m.lim[1]);
    c.check("modal form of a 2×2 rotation: λ = 0.9 e^{±0.3i}",
            m.ok && std::fabs(m.lre[0] - cs) < 1e-14 && std::fabs(m.lre[1] - cs) < 1e-14 && std::fabs(lo + sn) < 1e-14 &&
                std::fabs(hi - sn) < 1e-14);
  }
  {  // diag(0.5, 0.5, 0.2): a repeated eigenvalue with its own eigenvectors
    const std::vector<double> a = {0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.2};
    const modprop::ModalForm m = modprop::modalForm(a, 3);
    double eig = 1, inv = 1;
    if (m.ok) residuals(a, m, eig, inv);
    c.check("modal form of diag(0.5, 0.5, 0.2): exact, condition 3", m.ok && eig == 0 && inv == 0 && std::fabs(m.condition - 3) < 1e-12);
  }
  {  // 0.6 I + a nilpotent shift of size 12: one Jordan block
    const int n = 12;
    std::vector<double> a(n * n, 0.0);
    for (int i = 0; i < n; i++) a[i * n + i] = 0.6;
    for (int i = 0; i + 1 < n; i++) a[i * n + i + 1] = 0.1;
    const modprop::ModalForm m = modprop::modalForm(a, n);
    bool allAlpha = m.ok;
    for (int k = 0; m.ok && k < n; k++) allAlpha = allAlpha && m.lre[k] == 0.6 && m.lim[k] == 0;
    c.check("a Jordan block: eigenvalues found, no eigenbasis (condition beyond any usable bound)",
            allAlpha && !(m.condition <= 1e12));
  }
}

// ThreadPool::HostedWork: the work runs exactly once, inside the first hosting parallelFor of its thread (after all
// of that call's own tasks were claimed), else at finish(); its exception comes out of finish(); a gradient call
// hosting it gives the same bits as one without.
void hostedWork(Checks& c) {
  for (int size : {1, 2, 3}) {
    ThreadPool pool(size);
    int runs = 0;
    std::vector<int> claimedBefore;
    std::mutex m;
    int bodyTasksDone = 0;
    bool inPool = false;
    {
      ThreadPool::HostedWork hosted([&] {
        std::lock_guard<std::mutex> lock(m);
        runs++;
        claimedBefore.push_back(bodyTasksDone);
      });
      pool.parallelFor(4, [&](int) { std::lock_guard<std::mutex> lock(m); bodyTasksDone++; });  // not hosting
      const int afterPlain = runs;
      pool.parallelFor(6, [&](int) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        std::lock_guard<std::mutex> lock(m);
        bodyTasksDone++;
      }, true);
      const int afterHosting = runs;
      pool.parallelFor(3, [&](int) {}, true);  // claimed already: not run again
      hosted.finish();
      inPool = hosted.ranInPool();
      c.check("HostedWork on " + std::to_string(size) + " thread(s): not run by a parallelFor that does not host it",
              afterPlain == 0);
      c.check("HostedWork on " + std::to_string(size) + " thread(s): run once by the hosting parallelFor, not again",
              afterHosting == 1 && runs == 1 && inPool);
      // Claimed after the body's six tasks: at least size - 1 of them done (the others may still be running).
      c.check("HostedWork on " + std::to_string(size) + " thread(s): claimed after the body's tasks",
              claimedBefore.size() == 1 && claimedBefore[0] >= 4 + (size == 1 ? 6 : 6 - (size - 1)));
    }
  }
  {
    ThreadPool pool(2);
    int runs = 0;
    bool inPool = true;
    {
      ThreadPool::HostedWork hosted([&] { runs++; });
      hosted.finish();
      hosted.finish();
      inPool = hosted.ranInPool();
    }
    c.check("HostedWork without a hosting parallelFor: finish() runs it once", runs == 1 && !inPool);
    int dtor = 0;
    { ThreadPool::HostedWork hosted([&] { dtor++; }); }
    c.check("HostedWork never finished: the scope's end runs it", dtor == 1);
    bool thrown = false;
    try {
      ThreadPool::HostedWork hosted([] { throw std::runtime_error("hosted failed"); });
      pool.parallelFor(2, [](int) {}, true);
      hosted.finish();
    } catch (const std::runtime_error& e) {
      thrown = std::string(e.what()) == "hosted failed";
    }
    c.check("HostedWork: its exception comes out of finish()", thrown);
  }
  {  // a gradient call hosting work (as train()'s iteration job does) computes the same bits as one without
    ThreadPool pool(2);
    Dims d{8, 30, 3, 24, 2, 2};
    const Net net = randomNet(d, 77);
    const Data data = randomData(d, Loss::XentLast, 77);
    const RuleSpec rule = spec(Rule::Modprop, Feedback::Type, 0.25, true);
    const auto plain = run<float>(net, data, rule, pool);
    std::vector<double> sink(1000);
    bool inPool = false;
    Grads<float> hostedGrads;
    {
      ThreadPool::HostedWork hosted([&] { for (std::size_t i = 0; i < sink.size(); i++) sink[i] = std::sqrt(double(i)); });
      hostedGrads = run<float>(net, data, rule, pool);
      inPool = hosted.ranInPool();
      hosted.finish();
    }
    bool moved = false;
    for (float g : plain.wrec) moved = moved || g != 0;
    c.check("a gradient call hosts the work (its chunk loop) with the same bits as without, and the work is done",
            inPool && plain.wrec == hostedGrads.wrec && plain.win == hostedGrads.win && plain.wout == hostedGrads.wout &&
                plain.loss == hostedGrads.loss && sink[999] == std::sqrt(999.0) && moved);
  }
}

// sampler::NormalStream (jump-ahead rounds, four pairs at a time) against the serial fastNormal: the same normals bit
// for bit and the same generator state after each request, for requests split across segment and round
// boundaries; and the wedge test's shortcut against the series it stands for, right at its boundary.
void normalStream(Checks& c) {
  using namespace modprop::sampler;
  const std::vector<std::vector<std::size_t>> splits = {
      {1}, {7, 4089, 5}, {16384}, {32768, 1, 32767, 3}, {100000}, {65536 + 17, 250000}};
  bool values = true, states = true;
  std::size_t total = 0, tails = 0, wedges = 0;
  for (uint32_t seed = 1; seed <= 3; seed++) {
    for (const auto& split : splits) {
      Xoshiro128 serial{{seed, 0x9e3779b9u, 7u * seed, 1u}};
      NormalStream stream(serial);
      for (std::size_t count : split) {
        std::vector<double> got(count);
        stream.fill(got.data(), count);
        for (std::size_t i = 0; i < count; i++) {
          const double want = fastNormal(serial);
          values = values && std::memcmp(&want, &got[i], sizeof want) == 0;
          tails += std::fabs(want) > modprop::ziggurat::kR ? 1 : 0;
        }
        total += count;
        const Xoshiro128 after = stream.state();
        states = states && std::memcmp(after.s, serial.s, sizeof serial.s) == 0;
      }
    }
  }
  // Pairs that went to the wedge test: a rejected first pair shows up as a stream that moved more than 2 words
  // per normal; count them on one long serial run.
  {
    Xoshiro128 r{{5, 6, 7, 8}};
    for (int i = 0; i < 200000; i++) {
      Xoshiro128 before = r;
      fastNormal(r);
      before.next();
      before.next();
      wedges += std::memcmp(before.s, r.s, sizeof r.s) != 0 ? 1 : 0;
    }
  }
  c.check("NormalStream == serial fastNormal, bit for bit (" + std::to_string(total) + " normals, " + std::to_string(tails) +
              " from the tail; " + std::to_string(wedges) + " slow paths in 200000 serial draws)",
          values && tails > 10 && wedges > 1000);
  c.check("NormalStream's state after each request == the serial generator's", states);
  {
    Xoshiro128 a{{11, 12, 13, 14}}, b = a;
    std::vector<double> x(kStreamFrom + 3);
    fastNormals(a, x.data(), x.size());
    for (std::size_t i = 0; i < x.size(); i++) fastNormal(b);
    c.check("fastNormals in bulk (a NormalStream) leaves the serial state", std::memcmp(a.s, b.s, sizeof a.s) == 0);
  }
  {  // belowExpNonPositive(level, x) == (level < expNonPositive(x)), levels on and a few ulps around the boundary
    std::mt19937_64 g(99);
    std::uniform_real_distribution<double> ux(-8.0, 0.0), ul(0.0, 1.0);
    bool same = true;
    int near = 0;
    for (int k = 0; k < 20000; k++) {
      const double x = ux(g);
      const double e = expNonPositive(x);
      // A random level, and e itself with the four floats on either side of it.
      double levels[10] = {ul(g), e};
      double below = e, above = e;
      for (int d = 0; d < 4; d++) {
        below = std::nextafter(below, 0.0);
        above = std::nextafter(above, 2.0);
        levels[2 + 2 * d] = below;
        levels[3 + 2 * d] = above;
      }
      for (double level : levels) {
        const bool want = level < e;
        same = same && belowExpNonPositive(level, x) == want;
        near += std::fabs(level - e) <= 4 * std::fabs(e) * 2.3e-16 ? 1 : 0;
      }
    }
    c.check("the wedge test's shortcut == level < expNonPositive(x) (" + std::to_string(near) + " levels within 4 ulps)",
            same && near > 100000);
  }
}

// kernels::reluBits and expandBits at each instruction set this CPU has, and the plain loops (double), against the
// bits and 0/1 values worked out one by one: every width N = 1…100, rows of positive, negative, +0, −0 and NaN
// entries, selections from none to all columns.
// A set of columns as kernels.h's words.
std::vector<std::uint16_t> columnBits(const std::vector<int>& columns, int n) {
  std::vector<std::uint16_t> bits(std::size_t(n + 15) / 16, 0);
  for (int q : columns) bits[std::size_t(q) / 16] = std::uint16_t(bits[std::size_t(q) / 16] | (1u << (q % 16)));
  return bits;
}

void reluBitsAgree(Checks& c) {
  namespace k = modprop::kernels;
  std::mt19937_64 rng(717);
  std::uniform_real_distribution<double> u(0, 1);
  bool same = true;
  std::string where;
  int cases = 0, levels = 1;
  std::vector<const k::isa::Kernels*> tables;
#ifdef MODPROP_X86_SIMD
  if (k::simdLevel() >= k::Simd::Avx2) tables.push_back(&k::isa::kAvx2);
  if (k::simdLevel() >= k::Simd::Avx512) tables.push_back(&k::isa::kAvx512);
#endif
  levels += int(tables.size());
  auto name = [&](const k::isa::Kernels* t) { return t == nullptr ? "the plain loop" : t == tables.back() ? "the best table" : "the AVX2 table"; };
  for (int n = 1; n <= 100; n++)
    for (double share : {0.0, 0.3, 0.7, 1.0})
      for (int rows : {1, 3}) {
        const int words = (n + 15) / 16;
        const std::ptrdiff_t lda = n + 3, ldd = n + 2;
        std::vector<float> a(std::size_t(rows) * lda, 5.0f);  // past each row's end: never read
        std::vector<std::uint16_t> positive(std::size_t(rows) * words, 0), any(words, 0);
        for (int r = 0; r < rows; r++)
          for (int q = 0; q < n; q++) {
            const double p = u(rng);
            float v = p < 0.25 ? 0.0f : p < 0.45 ? -0.0f : p < 0.6 ? -1.5f : p < 0.65 ? std::nanf("") : 0.5f + float(p);
            a[std::size_t(r) * lda + q] = v;
            if (v > 0) positive[std::size_t(r) * words + q / 16] |= std::uint16_t(1u << (q % 16));
            if (v != 0) any[q / 16] |= std::uint16_t(1u << (q % 16));
          }
        any[0] |= 0x8000u;  // OR-ed onto what is there: a bit of its own is kept
        std::vector<int> units;
        for (int q = 0; q < n; q++)
          if (u(rng) < share) units.push_back(q);
        const int s = int(units.size());
        const std::vector<std::uint16_t> bits = columnBits(units, n);
        std::vector<float> want(std::size_t(rows) * ldd, -7.0f);
        for (int r = 0; r < rows; r++)
          for (int b = 0; b < s; b++) want[std::size_t(r) * ldd + b] = a[std::size_t(r) * lda + units[b]] > 0 ? 1.0f : 0.0f;
        auto compare = [&](const char* who, const char* what, bool ok) {
          cases++;
          if (same && !ok) {
            same = false;
            where = std::string(who) + ", " + what + " at N = " + std::to_string(n) + ", rows = " + std::to_string(rows) +
                    ", " + std::to_string(s) + " selected";
          }
        };
        std::vector<const k::isa::Kernels*> forms = tables;
        forms.push_back(nullptr);
        for (const k::isa::Kernels* t : forms) {
          std::vector<std::uint16_t> gotPositive(positive.size(), 0xffffu), gotAny(words, 0);
          gotAny[0] = 0x8000u;
          std::vector<float> got(want.size(), -7.0f);
          if (t != nullptr) {
            t->reluBits(rows, n, a.data(), lda, gotPositive.data(), gotAny.data());
            t->expandBits(rows, n, positive.data(), bits.data(), got.data(), ldd);
          } else {
            const std::vector<double> ad(a.begin(), a.end());
            std::vector<double> gotd(want.size(), -7.0);
            k::reluBits<double>(rows, n, ad.data(), lda, gotPositive.data(), gotAny.data());
            k::expandBits<double>(rows, n, positive.data(), bits.data(), gotd.data(), ldd);
            got.assign(gotd.begin(), gotd.end());
          }
          compare(name(t), "reluBits' row words", gotPositive == positive);
          compare(name(t), "reluBits' OR of non-zero columns", gotAny == any);
          compare(name(t), "expandBits (past the selection untouched)", got == want);
        }
      }
  c.check("reluBits and expandBits == worked out one by one (" + std::to_string(levels) + " forms, " +
              std::to_string(cases) + " cases)",
          same, where);
}

// The same rule, never restricted to the active units (RecurrentCredit::restrictedTo's default).
template <typename Real>
class AllUnits final : public modprop::RecurrentCredit<Real> {
 public:
  explicit AllUnits(std::unique_ptr<modprop::RecurrentCredit<Real>> inner) : inner_(std::move(inner)) {}
  void step(int t, int rows, const Real* gNext, const Real* ell, const Real* ellNext, const Real* z, Real* g) override {
    inner_->step(t, rows, gNext, ell, ellNext, z, g);
  }
  bool signal(int rows, const Real* delta, Real* out) override { return inner_->signal(rows, delta, out); }

 private:
  std::unique_ptr<modprop::RecurrentCredit<Real>> inner_;
};

// offlineChunk runs bptt's reverse recursion over the units active at some step of the chunk only (a never-active
// unit's g_t is +0 throughout): it must give every gradient the bits the recursion over all units gives. Networks with
// a share of units cut off (no input or recurrent weight in, so never active) and the rest firing at some steps.
template <typename Real>
void restrictedReverseCase(Checks& c, Dims d, double cutShare, Loss loss, int window, uint64_t seed) {
  Net net = randomNet(d, seed, 0.7, 1.5, 0.2);
  const int n = d.nRec;
  std::mt19937_64 rng(seed + 99);
  std::vector<char> cut(n, 0);
  for (int i = 0; i < n; i++) cut[i] = std::uniform_real_distribution<double>(0, 1)(rng) < cutShare;
  for (int i = 0; i < n; i++) {
    if (!cut[i]) continue;
    for (int j = 0; j < n; j++) net.wrec[std::size_t(j) * n + i] = 0;
    for (int k = 0; k < d.nIn; k++) net.win[std::size_t(k) * n + i] = 0;
  }
  const Data data = randomData(d, loss, seed);
  const std::vector<Real> win = cast<Real>(net.win), wrec = cast<Real>(net.wrec), wout = cast<Real>(net.wout),
                          bout = cast<Real>(net.bout), x = cast<Real>(data.x), targets = cast<Real>(data.targets);
  modprop::ModelView<Real> view{win.data(), wrec.data(), wout.data(), bout.data(), nullptr, net.types.data(),
                                net.alpha, net.threshold};
  modprop::BatchView<Real> batch{x.data(), data.labels.empty() ? nullptr : data.labels.data(),
                                 targets.empty() ? nullptr : targets.data(), loss};
  const RuleSpec rule = window > 0 ? spec(Rule::Tbptt, Feedback::Type, 0.25, false, window) : spec(Rule::Bptt);
  const modprop::Model<Real> m = modprop::buildModel<Real>(d, view, rule);
  // Units never active, and units active at some steps but not all, over the whole chunk (forward()).
  std::vector<Real> v(std::size_t(d.batch) * d.steps * n), z(v.size()), y(std::size_t(d.batch) * d.steps * d.nOut);
  ThreadPool one(1);
  modprop::forward(d, view, x.data(), v.data(), z.data(), y.data(), one);
  int never = 0, sometimes = 0;
  for (int i = 0; i < n; i++) {
    std::size_t on = 0;
    for (std::size_t e = i; e < z.size(); e += n) on += z[e] != 0;
    never += on == 0;
    sometimes += on > 0 && on < z.size() / n;
  }
  auto gradient = [&](modprop::RecurrentCredit<Real>& credit) {
    std::vector<Real> g(win.size() + wrec.size() + wout.size() + bout.size(), Real(0));
    Real* p = g.data();
    modprop::GradAccumulator<Real> acc{p, p + win.size(), p + win.size() + wrec.size(),
                                       p + win.size() + wrec.size() + wout.size()};
    const double l = modprop::offlineChunk(m, batch, credit, 0, d.batch, acc);
    g.push_back(Real(l));
    return g;
  };
  const auto restricted = modprop::bpttCredit(m, window);
  AllUnits<Real> all(modprop::bpttCredit(m, window));
  const std::vector<Real> a = gradient(*restricted), b = gradient(all);
  const bool same = a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0;
  double wrecNorm = 0;
  for (std::size_t e = win.size(); e < win.size() + wrec.size(); e++) wrecNorm += double(b[e]) * double(b[e]);
  c.check(std::string("bptt over the active units only == over all units, bit for bit (") +
              (std::is_same<Real, float>::value ? "float" : "double") + ", N " + std::to_string(n) + ", B " +
              std::to_string(d.batch) + ", " + lossName(loss) + (window > 0 ? ", window " + std::to_string(window) : "") +
              "; " + std::to_string(never) + " never active, " + std::to_string(sometimes) + " sometimes)",
          same && 8 * (n - never) <= 7 * n && never < n && sometimes > 0 && wrecNorm > 0,
          "|dWrec| " + fmt(std::sqrt(wrecNorm)));
}

void restrictedReverse(Checks& c) {
  const Dims dims[] = {{5, 30, 3, 37, 2, 3}, {16, 40, 2, 120, 2, 2}, {1, 25, 2, 53, 3, 2}, {3, 20, 2, 17, 2, 1}};
  uint64_t seed = 501;
  for (const Dims& d : dims)
    for (Loss loss : {Loss::XentLast, Loss::Mse})
      for (int window : {0, 7}) {
        restrictedReverseCase<float>(c, d, 0.4, loss, window, seed);
        restrictedReverseCase<double>(c, d, 0.4, loss, window, seed);
        seed++;
      }
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--bench") == 0) return runBench(argc, argv);
  Checks checks;
  ThreadPool pool(2);
  std::printf("core_test: SIMD kernels %s\n", modprop::kernels::simdName(modprop::kernels::simdLevel()));
  finiteDifferences(checks, pool);
  againstTranscription(checks, pool);
  identities(checks, pool);
  precision(checks, pool);
  threads(checks);
  errors(checks, pool);
  spectralRadius(checks);
  typeMeans(checks);
  krylov(checks, pool);
  panels(checks);
  nonzeroColumns(checks);
  isaKernelsAgree(checks);
  reluBitsAgree(checks);
  restrictedReverse(checks);
  retainedCache(checks);
  modalForms(checks);
  hostedWork(checks);
  normalStream(checks);
  return checks.finish();
}
