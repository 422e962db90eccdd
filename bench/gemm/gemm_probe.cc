// Single-precision GEMM rate of this machine, the denominator of the bench's "fraction of GEMM" (SPEC §7).
//   gemm_probe <m> <k> <n> <reps> <concurrent>
// Times C = A·B (row-major, no transposes, A m×k, B k×n) with OpenBLAS's cblas_sgemm and prints one JSON line.
// OpenBLAS's own threads come from OPENBLAS_NUM_THREADS (set by the caller). <concurrent> > 1 runs that many
// independent products at once on as many std::threads (each with its own A, B, C): the way the modprop core uses
// the cores, one batch chunk per thread, and the right ceiling for small per-step shapes that OpenBLAS will not split.
// Each sample repeats the product until it has run ≥ 20 ms; the median of <reps> samples is reported, after a warm-up.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Operands {
  std::vector<float> a, b, c;
  Operands(int m, int k, int n) : a(std::size_t(m) * k), b(std::size_t(k) * n), c(std::size_t(m) * n) {
    unsigned s = 12345u;  // small deterministic values: no denormals, no overflow
    for (float& v : a) v = float((s = s * 1664525u + 1013904223u) >> 9) / float(1u << 23) - 0.5f;
    for (float& v : b) v = float((s = s * 1664525u + 1013904223u) >> 9) / float(1u << 23) - 0.5f;
  }
};

void product(int m, int k, int n, Operands& o, long calls) {
  for (long i = 0; i < calls; i++)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, o.a.data(), k, o.b.data(), n, 0.0f,
                o.c.data(), n);
}

// Seconds for `calls` products on each of the `concurrent` operand sets at once.
double timed(int m, int k, int n, std::vector<Operands>& ops, long calls) {
  const auto t0 = Clock::now();
  if (ops.size() == 1) {
    product(m, k, n, ops[0], calls);
  } else {
    std::vector<std::thread> threads;
    for (auto& o : ops) threads.emplace_back([&, calls] { product(m, k, n, o, calls); });
    for (auto& t : threads) t.join();
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: gemm_probe <m> <k> <n> <reps> <concurrent>\n");
    return 2;
  }
  const int m = std::atoi(argv[1]), k = std::atoi(argv[2]), n = std::atoi(argv[3]);
  const int reps = std::max(1, std::atoi(argv[4])), concurrent = std::max(1, std::atoi(argv[5]));
  std::vector<Operands> ops;
  for (int i = 0; i < concurrent; i++) ops.emplace_back(m, k, n);

  // Warm up and find how many calls make a ≥ 20 ms sample.
  long calls = 1;
  for (;;) {
    const double s = timed(m, k, n, ops, calls);
    if (s >= 0.02) break;
    calls = s <= 0 ? calls * 16 : std::max(calls * 2, long(calls * 0.025 / s) + 1);
  }
  std::vector<double> rates;
  const double flops = 2.0 * m * k * n * double(calls) * concurrent;
  for (int r = 0; r < reps; r++) rates.push_back(flops / timed(m, k, n, ops, calls) / 1e9);
  std::sort(rates.begin(), rates.end());
  std::printf(
      "{\"m\":%d,\"k\":%d,\"n\":%d,\"concurrent\":%d,\"openblasThreads\":%d,\"callsPerSample\":%ld,"
      "\"gflopsMedian\":%.3f,\"gflopsMin\":%.3f,\"gflopsMax\":%.3f,\"samples\":%d,\"config\":\"%s\",\"core\":\"%s\"}\n",
      m, k, n, concurrent, openblas_get_num_threads(), calls, rates[rates.size() / 2], rates.front(), rates.back(),
      reps, openblas_get_config(), openblas_get_corename());
  return 0;
}
