/**
 * The machine's single-precision GEMM rate, measured in the same run as the rules (SPEC §7 asks for each rule's
 * GFLOP/s as a fraction of it). bench/gemm/gemm_probe.cc is compiled here with g++ -O3 -march=native against
 * OpenBLAS into bench/.build/ and run once per shape and thread count. Without OpenBLAS (or g++) there is no rate and
 * no fraction: the report says why instead of inventing a number.
 *
 * OpenBLAS picks its kernels from the CPU unless OPENBLAS_CORETYPE says otherwise, and an inherited
 * OPENBLAS_CORETYPE=Haswell (as on the VM this was written on) halves the rate of an AVX-512 CPU. So the probe runs
 * with OpenBLAS's own choice, with the inherited OPENBLAS_CORETYPE if there is one, and with SkylakeX (AVX-512) when
 * the CPU has AVX-512F; the fastest is the machine's rate. Every run is kept in the results.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface GemmRate {
  m: number; k: number; n: number;
  /** Independent products run at once, one per thread (each with OPENBLAS_NUM_THREADS=1). */
  concurrent: number;
  /** OpenBLAS's own thread count for one product. */
  openblasThreads: number;
  gflopsMedian: number; gflopsMin: number; gflopsMax: number;
  samples: number;
  /** OpenBLAS's build string and the kernel family it ran. */
  config: string; core: string;
  /** OPENBLAS_CORETYPE forced for this run, if any. */
  coretype?: string;
}

export interface GemmReport {
  available: boolean;
  /** Why there is no rate (no OpenBLAS, no compiler, the probe failed). */
  note?: string;
  /** Every run, for the results file. */
  runs: GemmRate[];
  /** Per thread count: the best large square product (the machine's rate, the denominator of "% of GEMM"). */
  large: Record<number, GemmRate>;
  /** Per thread count: the kernel's per-step shape, B/threads × N × N, one product per thread at once. */
  step: Record<number, GemmRate>;
}

const HERE = __dirname;
const SOURCE = path.join(HERE, 'gemm', 'gemm_probe.cc');
const BUILD = path.join(HERE, '.build');
const BINARY = path.join(BUILD, 'gemm_probe');
const AVX512_CORETYPE = 'SkylakeX';

function compile(): string | undefined {
  fs.mkdirSync(BUILD, { recursive: true });
  const args = ['-O3', '-march=native', '-std=c++17', '-pthread', '-o', BINARY, SOURCE, '-lopenblas'];
  const r = spawnSync('g++', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) return `no GEMM rate: g++ could not run (${r.error.message})`;
  if (r.status !== 0) {
    const err = r.stderr ?? '';
    if (/cblas\.h|lopenblas|openblas/i.test(err)) {
      return 'no OpenBLAS: install libopenblas-dev (apt-get install -y libopenblas-dev) for the GEMM rate';
    }
    return `no GEMM rate: compiling ${path.relative(process.cwd(), SOURCE)} failed: ${err.split('\n').find((l) => l.trim()) ?? ''}`;
  }
  return undefined;
}

function probe(m: number, k: number, n: number, reps: number, concurrent: number, openblasThreads: number, coretype?: string): GemmRate {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(openblasThreads) };
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  else delete env.OPENBLAS_CORETYPE;
  const r = spawnSync(BINARY, [m, k, n, reps, concurrent].map(String), { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`gemm_probe ${m} ${k} ${n} failed: ${r.stderr || r.error?.message}`);
  const rate = JSON.parse(r.stdout.trim()) as GemmRate;
  return coretype ? { ...rate, coretype } : rate;
}

/**
 * The large square product's rate right now (median of `reps`), with the thread count and OpenBLAS kernel family of
 * `like` (the run's best): for a denominator measured beside the timing it divides, as the VM's speed drifts.
 * Undefined where the probe cannot run.
 */
export function sgemmNow(like: GemmRate, reps: number): number | undefined {
  try {
    return probe(like.m, like.k, like.n, reps, like.concurrent, like.openblasThreads, like.coretype).gflopsMedian;
  } catch {
    return undefined;
  }
}

export function cpuHasAvx512(): boolean {
  try {
    return /^flags\s*:.*\bavx512f\b/m.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

const best = (rates: GemmRate[]): GemmRate => rates.reduce((a, b) => (b.gflopsMedian > a.gflopsMedian ? b : a));

/**
 * Rates at `size`³ with OpenBLAS's own threads, and at the per-step shape (batch/threads) × nRec × nRec with one
 * product per thread at once — how the modprop core splits a batch.
 */
export function measureGemm(threadCounts: number[], opts: { size: number; batch: number; nRec: number; reps: number }): GemmReport {
  const note = compile();
  if (note) return { available: false, note, runs: [], large: {}, step: {} };
  const inherited = process.env.OPENBLAS_CORETYPE || undefined;
  const coretypes = [...new Set<string | undefined>([undefined, inherited, cpuHasAvx512() ? AVX512_CORETYPE : undefined])];
  const runs: GemmRate[] = [];
  const large: Record<number, GemmRate> = {};
  const step: Record<number, GemmRate> = {};
  try {
    for (const t of threadCounts) {
      const big = coretypes.map((c) => probe(opts.size, opts.size, opts.size, opts.reps, 1, t, c));
      const rows = Math.ceil(opts.batch / t);
      const small = coretypes.map((c) => probe(rows, opts.nRec, opts.nRec, opts.reps, t, 1, c));
      runs.push(...big, ...small);
      large[t] = best(big);
      step[t] = best(small);
    }
  } catch (err) {
    return { available: false, note: `no GEMM rate: ${(err as Error).message}`, runs, large: {}, step: {} };
  }
  return { available: true, runs, large, step };
}
