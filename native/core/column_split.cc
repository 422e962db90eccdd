// The column-split path (column_split.h): per step, one parallelFor over column ranges of the output for the
// recurrent products, the rest of the work per chunk exactly as offlineChunk / onlineChunk / forward do it.
#include "column_split.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "kernels.h"
#include "step.h"
#include "workspace.h"

namespace modprop {

template <typename Real>
bool columnSplit(const Model<Real>& m) {
  if constexpr (!std::is_same<Real, float>::value) {
    (void)m;
    return false;
  } else {
    if (kernels::columnBlockWidth() == 0) return false;
    if (m.neuron != Neuron::Rate) return false;  // spiking networks run spiking.cc's own path
    if (m.isSparse()) return false;              // masked networks on the sparse path have no panels to split
    const char* forced = std::getenv("MODPROP_COLUMN_SPLIT");
    return forced != nullptr && std::strcmp(forced, "1") == 0;
  }
}

template bool columnSplit<float>(const Model<float>&);
template bool columnSplit<double>(const Model<double>&);

namespace {

// Task `task` of `tasks` takes whole column blocks: [j0, j1) of the n columns.
void columnRange(int n, int task, int tasks, int& j0, int& j1) {
  const int p = kernels::columnBlockWidth();
  const std::int64_t blocks = (n + p - 1) / p;
  j0 = int(std::min<std::int64_t>(n, blocks * task / tasks * p));
  j1 = int(std::min<std::int64_t>(n, blocks * (task + 1) / tasks * p));
}

// The step of network.cc fused() for one block of rows.
kernels::StepBlock stepBlock(const Model<float>& m, int rows, const float* x, std::ptrdiff_t ldx, const float* vPrev,
                             const float* zPrev, std::ptrdiff_t ldPrev, float* v, float* z, std::ptrdiff_t ld) {
  return kernels::StepBlock{rows, m.d.nRec, m.d.nIn, x, ldx, m.win, zPrev, vPrev, ldPrev, m.wrec,
                            m.alpha, m.leak, m.threshold, v, z, ld,
                            m.wrecPanels.empty() ? nullptr : m.wrecPanels.data()};
}

// Runs make(c) → StepBlock for every chunk through the network step, the columns split across the pool.
template <class Make>
void stepColumns(const Model<float>& m, int chunks, ThreadPool& pool, Make&& make) {
  const int tasks = pool.size();
  pool.parallelFor(tasks, [&](int task) {
    int j0, j1;
    columnRange(m.d.nRec, task, tasks, j0, j1);
    if (j0 >= j1) return;
    thread_local std::vector<kernels::StepBlock> blocks;
    blocks.clear();
    for (int c = 0; c < chunks; c++) blocks.push_back(make(c));
    kernels::fusedStepColumns(blocks.data(), chunks, j0, j1);
  });
}

std::vector<int> chunkStarts(int batch, int chunks) {
  std::vector<int> first(chunks + 1);
  for (int c = 0; c <= chunks; c++) first[c] = int(std::int64_t(batch) * c / chunks);
  return first;
}

}  // namespace

void forwardColumns(const Model<float>& m, const float* x, float* v, float* z, float* y, ThreadPool& pool) {
  const Dims& d = m.d;
  const int steps = d.steps, n = d.nRec, k = d.nOut, nIn = d.nIn;
  const int chunks = std::min(pool.size(), int(d.batch));
  const std::vector<int> first = chunkStarts(d.batch, chunks);
  const std::ptrdiff_t ld = std::ptrdiff_t(steps) * n, ldx = std::ptrdiff_t(steps) * nIn;
  for (int t = 0; t < steps; t++)
    stepColumns(m, chunks, pool, [&](int c) {
      const std::ptrdiff_t base = std::ptrdiff_t(first[c]) * steps;
      float* vt = v + (base + t) * n;
      float* zt = z + (base + t) * n;
      return stepBlock(m, first[c + 1] - first[c], x + (base + t) * nIn, ldx, t > 0 ? vt - n : nullptr,
                       t > 0 ? zt - n : nullptr, ld, vt, zt, ld);
    });
  pool.parallelFor(chunks, [&](int c) {
    const int rows = first[c + 1] - first[c];
    const std::ptrdiff_t base = std::ptrdiff_t(first[c]) * steps;
    std::vector<float> yBlock(std::size_t(rows) * k);
    for (int t = 0; t < steps; t++) {
      kernels::matmul<float>(rows, k, n, z + (base + t) * n, ld, m.wout, k, yBlock.data(), k, false);
      float* yt = y + (base + t) * k;
      for (int r = 0; r < rows; r++) {
        float* yr = yt + std::ptrdiff_t(r) * steps * k;
        for (int o = 0; o < k; o++) yr[o] = yBlock[std::size_t(r) * k + o] + m.bout[o];
      }
    }
  });
}

namespace {

// One chunk's buffers, as offlineChunk lays them out ([T][rows][·]).
struct OfflineChunk {
  int first, rows;
  float *z, *g, *x, *delta, *y, *v[2], *ellCur, *ellSpare;
  const float* ell;  // ℓ_t of the reverse step being run, or null
  double loss;
};

}  // namespace

void offlineColumns(const Model<float>& m, const BatchView<float>& batch,
                    const std::vector<std::unique_ptr<RecurrentCredit<float>>>& credit, int bpttWindow,
                    const std::vector<int>& first, const std::vector<GradAccumulator<float>>& acc,
                    std::vector<double>& losses, ThreadPool& pool) {
  const int steps = m.d.steps, n = m.d.nRec, nIn = m.d.nIn, k = m.d.nOut;
  const int chunks = int(credit.size());
  std::size_t bytes = 64;
  for (int c = 0; c < chunks; c++) {
    const std::size_t rows = std::size_t(first[c + 1] - first[c]), block = rows * n * sizeof(float);
    bytes += 2 * Workspace::round(block * steps) + Workspace::round(rows * nIn * steps * sizeof(float)) +
             Workspace::round(rows * k * steps * sizeof(float)) + Workspace::round(rows * k * sizeof(float)) +
             4 * Workspace::round(block);
  }
  Workspace ws(bytes);
  std::vector<OfflineChunk> ch(chunks);
  for (int c = 0; c < chunks; c++) {
    OfflineChunk& o = ch[c];
    o.first = first[c];
    o.rows = first[c + 1] - first[c];
    const std::size_t block = std::size_t(o.rows) * n;
    o.z = ws.take<float>(block * steps);
    o.g = ws.take<float>(block * steps);
    o.x = ws.take<float>(std::size_t(o.rows) * nIn * steps);
    o.delta = ws.take<float>(std::size_t(o.rows) * k * steps);
    o.y = ws.take<float>(std::size_t(o.rows) * k);
    o.v[0] = ws.take<float>(block);
    o.v[1] = ws.take<float>(block);
    o.ellCur = ws.take<float>(block);
    o.ellSpare = ws.take<float>(block);
    o.ell = nullptr;
    o.loss = 0;
  }
  auto blockOf = [&](const OfflineChunk& o) { return std::ptrdiff_t(o.rows) * n; };

  pool.parallelFor(chunks, [&](int c) {
    const OfflineChunk& o = ch[c];
    for (int t = 0; t < steps; t++)
      for (int r = 0; r < o.rows; r++) {
        const float* src = batch.x + (std::ptrdiff_t(o.first + r) * steps + t) * nIn;
        std::copy(src, src + nIn, o.x + (std::ptrdiff_t(t) * o.rows + r) * nIn);
      }
  });

  for (int t = 0; t < steps; t++)
    stepColumns(m, chunks, pool, [&](int c) {
      const OfflineChunk& o = ch[c];
      float* zt = o.z + t * blockOf(o);
      return stepBlock(m, o.rows, o.x + std::ptrdiff_t(t) * o.rows * nIn, nIn, t > 0 ? o.v[t & 1] : nullptr,
                       t > 0 ? zt - blockOf(o) : nullptr, n, o.v[(t + 1) & 1], zt, n);
    });

  pool.parallelFor(chunks, [&](int c) {
    OfflineChunk& o = ch[c];
    for (int t = 0; t < steps; t++)
      if (hasOutputError(batch.loss, t, steps)) {
        const float* zt = o.z + t * blockOf(o);
        float* dt = o.delta + std::ptrdiff_t(t) * o.rows * k;
        o.loss += outputError(m, batch, o.first, o.rows, t, zt, n, o.y, dt);
        accumulateReadout(m, o.rows, zt, n, dt, acc[c].wout, acc[c].bout);
      }
  });

  // ℓ_t of every chunk, as offlineChunk forms it (the previous ℓ stays alive in ellSpare).
  auto signal = [&](int c, int t) {
    OfflineChunk& o = ch[c];
    o.ell = nullptr;
    if (!hasOutputError(batch.loss, t, steps)) return;
    const float* dt = o.delta + std::ptrdiff_t(t) * o.rows * k;
    if (!credit[c]->signal(o.rows, dt, o.ellCur)) learningSignal(m, o.rows, dt, o.z + t * blockOf(o), n, o.ellCur);
    o.ell = o.ellCur;
    std::swap(o.ellCur, o.ellSpare);
  };

  if (bpttWindow < 0) {
    pool.parallelFor(chunks, [&](int c) {
      OfflineChunk& o = ch[c];
      const float* ellNext = nullptr;
      for (int t = steps - 1; t >= 0; t--) {
        signal(c, t);
        const std::ptrdiff_t block = blockOf(o);
        credit[c]->step(t, o.rows, t + 1 < steps ? o.g + (t + 1) * block : nullptr, o.ell, ellNext, o.z + t * block,
                        o.g + t * block);
        ellNext = o.ell;
      }
    });
  } else {
    // bptt.cc's step with the product h @ Wrecᵀ and the element-wise rest on each task's columns.
    const float* panels = m.wrecTPanels.empty() ? nullptr : m.wrecTPanels.data();
    const int tasks = pool.size();
    for (int t = steps - 1; t >= 0; t--) {
      if (hasOutputError(batch.loss, t, steps)) {
        pool.parallelFor(chunks, [&](int c) { signal(c, t); });
      } else {
        for (OfflineChunk& o : ch) o.ell = nullptr;
      }
      const bool restart = t + 1 >= steps || (bpttWindow > 0 && (t + 1) % bpttWindow == 0);
      pool.parallelFor(tasks, [&](int task) {
        int j0, j1;
        columnRange(n, task, tasks, j0, j1);
        if (j0 >= j1) return;
        const int width = j1 - j0;
        if (!restart) {
          thread_local std::vector<kernels::ProductRows> products;
          products.clear();
          for (const OfflineChunk& o : ch)
            products.push_back({o.rows, o.g + (t + 1) * blockOf(o), n, o.g + t * blockOf(o), n});
          kernels::matmulColumns(products.data(), chunks, n, m.wrecT.data(), n, panels, j0, j1);
        }
        const float leak = m.leak;
        for (const OfflineChunk& o : ch)
          for (int r = 0; r < o.rows; r++) {
            const std::ptrdiff_t at = t * blockOf(o) + std::ptrdiff_t(r) * n + j0;
            float* g = o.g + at;
            const float* ell = o.ell != nullptr ? o.ell + std::ptrdiff_t(r) * n + j0 : nullptr;
            if (restart) {
              std::fill(g, g + width, 0.0f);
              leakyCombine<float>(width, m.alpha, nullptr, ell, g);
              continue;
            }
            const float* z = o.z + at;
            for (int i = 0; i < width; i++) g[i] = z[i] > 0.0f ? leak * g[i] : 0.0f;
            leakyCombine<float>(width, m.alpha, o.g + at + blockOf(o), ell, g);
          }
      });
    }
  }

  pool.parallelFor(chunks, [&](int c) {
    const OfflineChunk& o = ch[c];
    const std::ptrdiff_t block = blockOf(o);
    if (steps > 1)
      kernels::matmulTransA<float>(std::ptrdiff_t(steps - 1) * o.rows, n, n, o.z, n, o.g + block, n, acc[c].wrec, n);
    kernels::matmulTransA<float>(std::ptrdiff_t(steps) * o.rows, nIn, n, o.x, nIn, o.g, n, acc[c].win, n);
    losses[c] = o.loss;
  });
}

void onlineColumns(const Model<float>& m, const BatchView<float>& batch,
                   const std::vector<std::unique_ptr<OnlineRule<float>>>& rule, const std::vector<int>& first,
                   const std::vector<GradAccumulator<float>>& acc, std::vector<double>& losses, ThreadPool& pool) {
  const int chunks = int(rule.size()), n = m.d.nRec;
  std::vector<std::unique_ptr<OnlineChunk<float>>> state(chunks);
  pool.parallelFor(chunks, [&](int c) {
    state[c] = std::make_unique<OnlineChunk<float>>(m, batch, rule[c].get(), first[c], first[c + 1] - first[c], acc[c]);
  });
  for (int t = 0; t < m.d.steps; t++) {
    stepColumns(m, chunks, pool, [&](int c) {
      const OnlineChunk<float>::Step s = state[c]->step(t);
      return stepBlock(m, first[c + 1] - first[c], s.x, s.ldx, s.vPrev, s.zPrev, n, s.v, s.z, n);
    });
    pool.parallelFor(chunks, [&](int c) { state[c]->afterStep(t); });
  }
  pool.parallelFor(chunks, [&](int c) { losses[c] = state[c]->finish(); });
}

}  // namespace modprop
