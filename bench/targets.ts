/**
 * The speed and memory targets of SPEC §7, judged from one run's numbers. A target that cannot be judged (no OpenBLAS for the
 * GEMM rate, no native engine) is 'n/a' with the reason, never a guess.
 */
import type { GemmReport } from './gemm';
import type { JobName } from './flops';
import { CONTENDED, type Load } from './load';
import type { MemoryResults } from './memory';

export interface Row {
  job: JobName;
  label: string;
  medianMs: number;
  gflops: number;
  /** Achieved GFLOP/s over the large-square GEMM rate at the same thread count (absent without OpenBLAS). */
  fracGemm?: number;
  /** Same, over the GEMM rate at the kernel's per-step shape. */
  fracStep?: number;
}

export interface NativeRun {
  threads: number;
  rows: Row[];
}

export interface ReferenceRow {
  job: JobName;
  label: string;
  /** Reference ms per call at the small size, and scaled to the full size. */
  medianMs: number;
  scaledMs: number;
}

export type Status = 'PASS' | 'MISS' | 'n/a';

export interface TargetResult {
  id: 'bptt-gemm-fraction' | 'modprop-online-vs-bptt' | 'native-vs-reference' | 'online-memory';
  target: string;
  status: Status;
  value?: number;
  threshold: number;
  detail: string;
}

/** The contention phase name of a native suite (bench/index.ts). */
export const nativePhase = (threads: number): string => `native ${threads} thread${threads > 1 ? 's' : ''}`;

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/**
 * `contention`: other processes' CPU use per phase (bench/load.ts). A target whose phases were contended keeps its
 * verdict but says so, since on a small machine a busy neighbour halves the 2-thread numbers. `noNative`: why
 * `native` is empty, when it is.
 */
export function judge(native: NativeRun[], reference: ReferenceRow[], gemm: GemmReport, cores: number,
  contention: Record<string, Load> = {}, noNative = 'no native engine'): TargetResult[] {
  const out: TargetResult[] = [];
  const warn = (phases: string[]): string => {
    const busy = phases.flatMap((p) => (contention[p] && contention[p].othersCores > CONTENDED ? [`${p} ${contention[p].othersCores.toFixed(2)}`] : []));
    return busy.length ? `; CONTENDED: other processes used cores during ${busy.join(', ')}` : '';
  };
  const full = native.length ? native.reduce((a, b) => (b.threads > a.threads ? b : a)) : undefined;
  const find = (run: NativeRun | undefined, job: JobName) => run?.rows.find((r) => r.job === job);
  const allCores = full && full.threads >= cores ? '' : ` (only ${full?.threads ?? 0} of ${cores} cores measured)`;

  const bptt = find(full, 'bptt');
  const t1 = { id: 'bptt-gemm-fraction' as const, target: 'bptt ≥ 50 % of the machine\'s sgemm rate with both cores', threshold: 0.5 };
  if (!bptt || !full) out.push({ ...t1, status: 'n/a', detail: noNative });
  else if (!gemm.available || bptt.fracGemm === undefined) out.push({ ...t1, status: 'n/a', detail: gemm.note ?? 'no GEMM rate' });
  else {
    const rate = gemm.large[full.threads];
    out.push({
      ...t1, status: bptt.fracGemm >= 0.5 ? 'PASS' : 'MISS', value: bptt.fracGemm,
      detail: `${bptt.gflops.toFixed(1)} GFLOP/s = ${pct(bptt.fracGemm)} of sgemm ${rate.m}³ ${rate.gflopsMedian.toFixed(1)} GFLOP/s ` +
        `(${rate.core} kernel, ${full.threads} threads)${allCores}${warn(['gemm', nativePhase(full.threads)])}`,
    });
  }

  const mo = find(full, 'modprop-online');
  const t2 = { id: 'modprop-online-vs-bptt' as const, target: 'modprop online ≥ 3× faster than bptt', threshold: 3 };
  if (!bptt || !mo || !full) out.push({ ...t2, status: 'n/a', detail: noNative });
  else {
    const speedup = bptt.medianMs / mo.medianMs;
    out.push({
      ...t2, status: speedup >= 3 ? 'PASS' : 'MISS', value: speedup,
      detail: `${speedup.toFixed(2)}× (${bptt.medianMs.toFixed(2)} ms / ${mo.medianMs.toFixed(2)} ms, ${full.threads} threads)` +
        warn([nativePhase(full.threads)]),
    });
  }

  const t3 = { id: 'native-vs-reference' as const, target: 'native ≥ 30× faster than the TypeScript reference (every rule)', threshold: 30 };
  // The rules only: forward() is not a training job, and its time is mostly the allocation of its [B][T][N] outputs.
  const pairs = (full?.rows ?? []).filter((r) => r.job !== 'forward').flatMap((r) => {
    const ref = reference.find((x) => x.job === r.job);
    return ref ? [{ label: r.label, speedup: ref.scaledMs / r.medianMs }] : [];
  });
  if (!pairs.length) out.push({ ...t3, status: 'n/a', detail: full ? 'the reference engine was not measured' : noNative });
  else {
    const worst = pairs.reduce((a, b) => (b.speedup < a.speedup ? b : a));
    const misses = pairs.filter((p) => p.speedup < 30).map((p) => `${p.label} ${p.speedup.toFixed(1)}×`);
    out.push({
      ...t3, status: misses.length ? 'MISS' : 'PASS', value: worst.speedup,
      detail: `slowest ratio ${worst.speedup.toFixed(1)}× (${worst.label}, ${full!.threads} threads)` +
        (misses.length ? `; below 30×: ${misses.join(', ')}` : '') +
        warn([nativePhase(full!.threads), 'reference']),
    });
  }
  return out;
}

/** The online rules of SPEC §7's memory target, and its T. */
const ONLINE: readonly JobName[] = ['modprop-online', 'eprop-online'];
export const MEMORY_TARGET = { steps: 1e6, mb: 200 };

/** "online rules: T = 10⁶ in < 200 MB RSS" from the memory phase (bench/memory.ts); `missing`: why it did not run. */
export function judgeMemory(memory: MemoryResults | undefined, missing: string): TargetResult {
  const t = { id: 'online-memory' as const, target: 'online rules: T = 10⁶ in < 200 MB peak RSS', threshold: MEMORY_TARGET.mb };
  if (!memory) return { ...t, status: 'n/a', detail: missing };
  const rows = memory.rows.filter((r) => ONLINE.includes(r.job) && r.steps === MEMORY_TARGET.steps);
  if (!rows.length) return { ...t, status: 'n/a', detail: `T = 10⁶ not measured (largest T = ${Math.max(0, ...memory.steps).toExponential(0)})` };
  const failed = rows.filter((r) => r.status !== 'ok' || r.peakMB === undefined);
  if (failed.length) return { ...t, status: 'n/a', detail: failed.map((r) => `${r.label} ${r.detail ?? r.status}`).join('; ') };
  const worst = Math.max(...rows.map((r) => r.peakMB!));
  return {
    ...t, status: worst < MEMORY_TARGET.mb ? 'PASS' : 'MISS', value: worst,
    detail: `${rows.map((r) => `${r.label} ${r.peakMB!.toFixed(1)} MB`).join(', ')} (baseline without the call ` +
      `${rows[0].baselineMB === undefined ? '—' : `${rows[0].baselineMB.toFixed(1)} MB`}; B = ${memory.shape.batch}, N = ${memory.shape.nRec})`,
  };
}
