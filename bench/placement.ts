/**
 * Thread placement. The native pool's workers sleep on a condition variable between calls and are woken by the
 * calling thread; on the 2-vCPU VM this bench was written on, Linux at times woke a worker on the caller's own CPU and
 * kept it there, so both threads shared one core while the other idled: a 2-thread call then took as long as a
 * 1-thread call and the process's CPU time equalled its wall time. It is intermittent (bench/README.md, "Thread
 * placement").
 *
 * To measure the kernels rather than the scheduler, the suites pin (Linux, `taskset`): the calling thread to the first
 * allowed CPU and the threads a setThreads() call creates to the next ones. `placementProbe` measures the unpinned
 * behaviour separately, so the results show both.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { gradients, setThreads, type Batch, type Network, type RuleConfig } from '../lib/index';

const TASKS = '/proc/self/task';

function threadIds(): Set<string> {
  try {
    return new Set(fs.readdirSync(TASKS));
  } catch {
    return new Set();
  }
}

/** The CPUs this process may run on (Linux), else 0..cores-1. */
export function allowedCpus(cores: number): number[] {
  try {
    const list = /^Cpus_allowed_list:\s*(.*)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
    const cpus = list.split(',').flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
    }).filter((n) => Number.isInteger(n));
    if (cpus.length) return cpus;
  } catch {
    // Not Linux.
  }
  return Array.from({ length: cores }, (_, i) => i);
}

function taskset(tid: string | number, cpus: number[]): boolean {
  const r = spawnSync('taskset', ['-p', '-c', cpus.join(','), String(tid)], { encoding: 'utf8' });
  return r.status === 0;
}

/** Whether pinning can work here: Linux with taskset. */
export function canPin(): boolean {
  return fs.existsSync(TASKS) && spawnSync('taskset', ['--version']).status === 0;
}

/** Lets the calling thread run anywhere again. */
export function unpinCaller(cpus: number[]): void {
  taskset(process.pid, cpus);
}

/**
 * setThreads(threads); when `pin`, the calling (JS) thread goes to cpus[0] and each thread the call created to
 * cpus[1], cpus[2], … in turn. Returns how many new threads were pinned.
 */
export function setThreadsPlaced(threads: number, pin: boolean, cpus: number[]): number {
  const before = threadIds();
  setThreads(threads);
  if (!pin) return 0;
  taskset(process.pid, [cpus[0]]);
  const fresh = [...threadIds()].filter((t) => !before.has(t)).sort((a, b) => Number(a) - Number(b));
  fresh.forEach((tid, i) => taskset(tid, [cpus[(1 + i) % cpus.length]]));
  return fresh.length;
}

export interface PlacementProbe {
  rule: string;
  threads: number;
  /** One entry per fresh, unpinned pool: median ms per call and cores busy over its calls. */
  pools: { ms: number; coresBusy: number }[];
}

/** `pools` fresh unpinned pools of `threads` threads, `calls` gradient calls each. */
export function placementProbe(net: Network, batch: Batch, rule: RuleConfig, threads: number, pools: number, calls: number): PlacementProbe {
  const out: PlacementProbe = { rule: rule.rule + (rule.online ? ' online' : ''), threads, pools: [] };
  for (let p = 0; p < pools; p++) {
    setThreads(threads);
    gradients(net, batch, rule, { backend: 'native' });
    const ms: number[] = [];
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      gradients(net, batch, rule, { backend: 'native' });
      ms.push(performance.now() - t0);
    }
    const c = process.cpuUsage(c0);
    ms.sort((a, b) => a - b);
    out.pools.push({ ms: ms[Math.floor(ms.length / 2)], coresBusy: (c.user + c.system) / 1000 / (performance.now() - w0) });
  }
  return out;
}
