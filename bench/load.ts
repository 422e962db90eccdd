/**
 * How much CPU other processes took while a suite ran: the machine's busy time from /proc/stat minus this process's
 * own CPU time, in cores, and the hypervisor's steal time. On a 2-core machine a neighbour using one core halves every
 * 2-thread number (the GEMM rate included), so each suite records it and the report flags a contended run.
 */
import * as fs from 'node:fs';

interface Snapshot { busy: number; steal: number; self: number; wall: number }

export interface Load {
  /** Other processes' CPU use, in cores (average over the interval). */
  othersCores: number;
  /** Time the hypervisor gave our vCPUs to someone else, in cores. */
  stealCores: number;
}

const TICKS_PER_SECOND = 100;  // USER_HZ, 100 on every Linux this runs on

function readStat(): { busy: number; steal: number } | undefined {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return { busy: (user + nice + system + irq + softirq) / TICKS_PER_SECOND, steal: (steal ?? 0) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** This process's CPU seconds, its waited-for children's included (the GEMM probe runs as a child). */
function selfSeconds(): number {
  const s = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
  // Fields 14-17 of proc(5) (utime, stime, cutime, cstime) are 11-14 after the command name.
  return (f[11] + f[12] + f[13] + f[14]) / TICKS_PER_SECOND;
}

/** Starts a measurement; the returned function ends it (undefined where /proc/stat does not exist). */
export function watchLoad(): () => Load | undefined {
  const stat = readStat();
  if (!stat) return () => undefined;
  const start: Snapshot = { ...stat, self: selfSeconds(), wall: performance.now() };
  return () => {
    const end = readStat()!;
    const wall = (performance.now() - start.wall) / 1000;
    const self = selfSeconds() - start.self;
    return {
      othersCores: Math.max(0, (end.busy - start.busy - self) / wall),
      stealCores: (end.steal - start.steal) / wall,
    };
  };
}

/** The threshold above which a run is reported as contended (in cores). */
export const CONTENDED = 0.15;
