// `core_test --bench [reps]`: timings of the core at the paper's size (SPEC §7: B = 32, T = 900, N = 120, I = 2,
// K = 2, two cell types, xent-last), median of `reps` calls (default 5) after one warm-up, with 1 and 2 threads.
// FLOPs counted for bptt: 6·B·T·N² — the forward product z_{t-1} @ Wrec, the reverse product g_{t+1} @ Wrecᵀ and the
// accumulation Σ z_{t-1}ᵀ g_t, each 2·B·T·N² (the I- and K-sized terms, < 5 %, are not counted). The reference rate
// is this library's own float kernel on a 480×480×480 product, per thread count.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "../core/kernels.h"
#include "harness.h"

using namespace harness;

namespace {

double medianMs(int reps, const std::function<void()>& f) {
  f();
  std::vector<double> ms;
  for (int r = 0; r < reps; r++) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// GFLOP/s of the core's float matmul on n×n×n, run concurrently on every thread of the pool.
double gemmRate(modprop::ThreadPool& pool, int reps) {
  const int n = 480;
  std::vector<std::vector<float>> a(pool.size(), std::vector<float>(n * n, 0.5f)), c = a;
  std::vector<float> w(n * n, 0.25f);
  const double ms = medianMs(reps, [&] {
    pool.parallelFor(pool.size(), [&](int t) {
      modprop::kernels::matmul<float>(n, n, n, a[t].data(), n, w.data(), n, c[t].data(), n, false);
    });
  });
  return 2.0 * n * n * n * pool.size() / (ms * 1e6);
}

}  // namespace

int runBench(int argc, char** argv) {
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  Dims d{32, 900, 2, 120, 2, 2};
  Net net = randomNet(d, 7, std::exp(-1.0 / 100), 1.0);
  for (int i = 0; i < d.nRec; i++) net.types[i] = i < d.nRec - 96 ? 0 : 1;  // 24 inhibitory, 96 excitatory
  const Data data = randomData(d, Loss::XentLast, 7);
  const std::vector<float> win = cast<float>(net.win), wrec = cast<float>(net.wrec), wout = cast<float>(net.wout),
                           bout = cast<float>(net.bout), rfb = cast<float>(net.randomFeedback), x = cast<float>(data.x);
  modprop::ModelView<float> model{win.data(), wrec.data(), wout.data(), bout.data(),
                                  rfb.data(), net.types.data(), net.alpha, net.threshold};
  modprop::BatchView<float> batch{x.data(), data.labels.data(), nullptr, Loss::XentLast};
  std::vector<float> gwin(win.size()), gwrec(wrec.size()), gwout(wout.size()), gbout(bout.size());
  modprop::GradView<float> grads{gwin.data(), gwrec.data(), gwout.data(), gbout.data()};
  const std::size_t states = std::size_t(d.batch) * d.steps * d.nRec;
  std::vector<float> v(states), z(states), y(std::size_t(d.batch) * d.steps * d.nOut);
  const double bpttFlops = 6.0 * d.batch * d.steps * double(d.nRec) * d.nRec;

  std::printf("bench_core: B=%d T=%d N=%d I=%d K=%d, float, SIMD %s, median of %d\n", d.batch, d.steps, d.nRec,
              d.nIn, d.nOut, modprop::kernels::simdName(modprop::kernels::simdLevel()), reps);
  struct Job { const char* name; RuleSpec rule; bool forwardOnly; };
  const Job jobs[] = {{"forward", spec(Rule::Bptt), true},
                      {"bptt", spec(Rule::Bptt), false},
                      {"eprop online", spec(Rule::Eprop, Feedback::Type, 0, true), false},
                      {"eprop offline", spec(Rule::Eprop), false},
                      {"mdgl (type)", spec(Rule::Mdgl, Feedback::Type), false},
                      {"modprop offline (type)", spec(Rule::Modprop, Feedback::Type, 0.25), false},
                      {"modprop offline (cell)", spec(Rule::Modprop, Feedback::Cell, 0.25), false},
                      {"modprop online (type)", spec(Rule::Modprop, Feedback::Type, 0.25, true), false}};
  for (int threads : {1, 2}) {
    modprop::ThreadPool pool(threads);
    const double peak = gemmRate(pool, reps);
    std::printf("threads %d: float GEMM 480^3 %.1f GFLOP/s\n", threads, peak);
    double bpttMs = 0;
    for (const Job& job : jobs) {
      const double ms = medianMs(reps, [&] {
        if (job.forwardOnly)
          modprop::forward(d, model, x.data(), v.data(), z.data(), y.data(), pool);
        else
          modprop::gradients(d, model, batch, job.rule, grads, pool);
      });
      if (job.rule.rule == Rule::Bptt && !job.forwardOnly) {
        bpttMs = ms;
        const double rate = bpttFlops / (ms * 1e6);
        std::printf("  %-24s %8.2f ms   %.1f GFLOP/s (6·B·T·N²), %.0f %% of GEMM\n", job.name, ms, rate,
                    100 * rate / peak);
      } else if (job.forwardOnly) {
        const double rate = 2.0 * d.batch * d.steps * double(d.nRec) * d.nRec / (ms * 1e6);
        std::printf("  %-24s %8.2f ms   %.1f GFLOP/s (2·B·T·N²)\n", job.name, ms, rate);
      } else {
        std::printf("  %-24s %8.2f ms   %.2fx faster than bptt\n", job.name, ms, bpttMs / ms);
      }
    }
  }
  return 0;
}
