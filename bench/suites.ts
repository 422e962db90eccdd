/**
 * benchmark.js suites: one per engine, size and thread count, one benchmark per job (forward and each rule), and
 * the shape of the end-to-end training iteration's results (measured by bench/trainPhase.ts).
 * Each job is called once before it is timed, so a failing rule is an error here rather than a silent zero.
 */
import Benchmark from 'benchmark';
import { Network, gradients, type Batch, type RuleConfig } from '../lib/index';
import type { JobName } from './flops';

export interface Job {
  name: JobName;
  label: string;
  /** Absent for forward. */
  rule?: RuleConfig;
}

/** The jobs of every suite, in table order; test/unit/rules.test.ts checks every native rule of lib/rules.ts has one. */
export const JOBS: readonly Job[] = [
  { name: 'forward', label: 'forward' },
  { name: 'bptt', label: 'bptt', rule: { rule: 'bptt' } },
  { name: 'tbptt', label: 'tbptt (window 50)', rule: { rule: 'tbptt', window: 50 } },
  { name: 'eprop-online', label: 'eprop online', rule: { rule: 'eprop', online: true } },
  { name: 'eprop', label: 'eprop offline', rule: { rule: 'eprop' } },
  { name: 'mdgl', label: 'mdgl (type)', rule: { rule: 'mdgl', feedback: 'type' } },
  { name: 'modprop', label: 'modprop offline (type)', rule: { rule: 'modprop', mu: 0.25, feedback: 'type' } },
  { name: 'modprop-online', label: 'modprop online (type)', rule: { rule: 'modprop', mu: 0.25, feedback: 'type', online: true } },
  { name: 'rflo', label: 'rflo offline', rule: { rule: 'rflo' } },
  { name: 'rflo-online', label: 'rflo online', rule: { rule: 'rflo', online: true } },
];

export interface Timing {
  job: JobName;
  label: string;
  /** ms per call, median over benchmark.js's samples (each sample is the mean of one cycle of calls). */
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  minMs: number;
  maxMs: number;
  /** Interquartile range as a percentage of the median. */
  iqrPct: number;
  /** benchmark.js's relative margin of error of the mean (95 %). */
  rmePct: number;
  samples: number;
  /** Timed calls in all. */
  calls: number;
  /** ms per call of every sample, in the order taken. */
  sampleMs: number[];
  /** CPU time of the process over wall time while this job ran: about the thread count when every thread worked. */
  coresBusy?: number;
}

export interface SuiteOptions {
  /** benchmark.js: least samples per job, and the time after which it stops sampling (seconds). */
  minSamples: number;
  maxTime: number;
}

export function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export function summarize(job: Job, sampleMs: number[], rmePct: number, calls: number): Timing {
  const sorted = [...sampleMs].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const p25 = quantile(sorted, 0.25), p75 = quantile(sorted, 0.75);
  return {
    job: job.name, label: job.label, medianMs: median, p25Ms: p25, p75Ms: p75, minMs: sorted[0],
    maxMs: sorted[sorted.length - 1], iqrPct: (100 * (p75 - p25)) / median, rmePct, samples: sorted.length, calls, sampleMs,
  };
}

/** The function a benchmark calls: one forward pass or one gradient evaluation. */
export function callOf(job: Job, net: Network, batch: Batch, backend: 'native' | 'reference'): () => number {
  // One set of output arrays for all of the job's calls, as a training loop would keep (options.out): a fresh
  // nRec² array per call costs its page faults, about half of an online rule's call at nRec = 4096, and the forward
  // pass's v and z (B·T·nRec each) most of its time at nRec = 512.
  if (!job.rule) {
    const cells = batch.batchSize * batch.steps;
    const into = { v: new Float32Array(cells * net.nRec), z: new Float32Array(cells * net.nRec), y: new Float32Array(cells * net.nOut) };
    return () => net.forward(batch, { backend, out: into }).y.length;
  }
  const rule = job.rule;
  const p = net.params;
  const out = { win: new Float32Array(p.win.length), wrec: new Float32Array(p.wrec.length), wout: new Float32Array(p.wout.length), bout: new Float32Array(p.bout.length) };
  return () => gradients(net, batch, rule, { backend, out }).loss;
}

/** Runs one benchmark.js suite synchronously; `log` gets one line per finished job. */
export function runSuite(title: string, jobs: readonly Job[], call: (job: Job) => () => number, opts: SuiteOptions,
  log: (line: string) => void): Timing[] {
  const suite = new Benchmark.Suite(title);
  let sink = 0;
  for (const job of jobs) {
    const fn = call(job);
    const check = fn();
    if (!Number.isFinite(check)) throw new Error(`${title}: ${job.label} returned ${check}`);
    const usage = { cpu: process.cpuUsage(), wall: 0 };
    suite.add(job.label, () => { sink += fn(); }, {
      minSamples: opts.minSamples, maxTime: opts.maxTime, initCount: 1,
      onStart: () => { usage.cpu = process.cpuUsage(); usage.wall = performance.now(); },
      onComplete: () => {
        const c = process.cpuUsage(usage.cpu);
        busy.set(job.label, (c.user + c.system) / 1000 / (performance.now() - usage.wall));
      },
    });
  }
  const busy = new Map<string, number>();
  const timings: Timing[] = [];
  suite.on('cycle', (event: Benchmark.Event) => {
    const b = event.target as unknown as Benchmark;
    const job = jobs.find((j) => j.label === b.name);
    if (!job) return;
    if (b.error) throw new Error(`${title}: ${job.label} failed: ${String(b.error)}`);
    const t = { ...summarize(job, b.stats.sample.map((s) => s * 1000), b.stats.rme, b.count * b.stats.sample.length), coresBusy: busy.get(job.label) };
    timings.push(t);
    log(`  ${job.label.padEnd(24)} ${t.medianMs.toFixed(2).padStart(9)} ms  (IQR ±${(t.iqrPct / 2).toFixed(1)} %, ${t.samples} samples, ${t.coresBusy?.toFixed(2) ?? '?'} cores busy)`);
  });
  suite.run({ async: false });
  if (!Number.isFinite(sink)) log('  (a job returned a non-finite value)');
  return timings;
}

export interface TrainTiming {
  job: JobName;
  label: string;
  /** Marginal ms per training iteration: (time for `long` iterations − time for `short`) / (long − short). */
  medianMs: number;
  runsMs: number[];
  short: number;
  long: number;
}
