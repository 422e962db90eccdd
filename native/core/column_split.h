// Internal: the column-split path for large networks (issue 13). Below, every call splits the batch into chunks and
// each pool thread runs its chunk through all T steps; at large N each thread then streams all of Wrec from memory
// at every step. Here every step's recurrent product is split by output columns across the pool instead (one
// parallelFor per step), and each thread runs all chunks' rows through a column block of Wrec before the next, so
// Wrec is read once per step for the whole batch. The chunks, their accumulators and every element's sum are those
// of the row-split path, so results are bit-identical to it (test/native/columnSplit.test.ts).
#pragma once
#include <memory>
#include <vector>

#include "rules.h"
#include "thread_pool.h"

namespace modprop {

// Opt-in: MODPROP_COLUMN_SPLIT=1 takes the column-split path at any N (float, SIMD kernels), anything else the
// per-thread row split; read at every call. It was meant for N ≥ 2048, where Wrec (16 MB at 2048) leaves a core's
// share of the last-level cache, but on the 2-core Zen 5 machine, quiet, it measured 0.93–0.97× the row split at
// N = 2048 and 1.01–1.05× at 4096 (forward, bptt, online e-prop; B = 32): not a win, so it is not the default until a
// machine shows one (bench/README.md, "Large networks").
template <typename Real>
bool columnSplit(const Model<Real>& m);

// forward() of network.cc on the column-split path (chunks = min(threads, B) as there).
void forwardColumns(const Model<float>& m, const float* x, float* v, float* z, float* y, ThreadPool& pool);

// gradients() of one offline rule on the column-split path: chunk c covers sequences first[c] … first[c+1]-1, runs
// with credit[c] into acc[c] and returns its loss in losses[c]. bpttWindow ≥ 0: the rule is bptt/tbptt with this
// window (0: none), whose reverse products are split by columns too; −1: another rule, whose reverse recursion runs
// per chunk.
void offlineColumns(const Model<float>& m, const BatchView<float>& batch,
                    const std::vector<std::unique_ptr<RecurrentCredit<float>>>& credit, int bpttWindow,
                    const std::vector<int>& first, const std::vector<GradAccumulator<float>>& acc,
                    std::vector<double>& losses, ThreadPool& pool);

// The same for an online rule (rule[c] null: e-prop).
void onlineColumns(const Model<float>& m, const BatchView<float>& batch,
                   const std::vector<std::unique_ptr<OnlineRule<float>>>& rule, const std::vector<int>& first,
                   const std::vector<GradAccumulator<float>>& acc, std::vector<double>& losses, ThreadPool& pool);

}  // namespace modprop
