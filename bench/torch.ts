/**
 * The PyTorch peer (issue 13): bench/torch_peer.py run with Debian's /usr/bin/python3 (python3-torch with OpenBLAS),
 * a BPTT training step of the same network at the paper's size, best of 1 and 2 threads. When `import torch` fails
 * the phase is skipped with the reason. `peerRatios` divides the PyTorch step by train()'s iteration.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { medianInterval } from '../lib/cli/stats';
import { quantile, type Job } from './suites';
import type { TrainRow } from './trainPhase';

/** The paired comparison (pairedPeer): per round the peer's best of a few steps and each rule's iteration right after. */
export interface PairedPeer {
  threads: number; rounds: number; stepsPerRound: number;
  rows: { job: string; label: string; goal: number; torchMs: number[]; trainMs: number[]; ratios: number[]; ratio: number; interval?: { lo: number; hi: number; coverage: number } }[];
}

export type TorchPeer =
  | { available: true; torch: string; blas: string; shape: { batch: number; steps: number; nRec: number }; stepMs: Record<string, number>; bestMs: number; bestThreads: number; paired?: PairedPeer }
  | { available: false; reason: string };

/** The rules with a PyTorch goal (issue 13): how many times faster than the peer's step a training iteration must be. */
export const PEER_GOALS: Record<string, number> = { bptt: 10, 'modprop-online': 25 };

/**
 * The peer's step and train()'s iterations measured in alternation (bench/torch_peer.py --serve, one Python process):
 * each round takes the best of `stepsPerRound` peer steps, then each goal rule's marginal iteration (`iterationMs`),
 * and divides; the ratio is the median over the rounds with the sign test's interval. The unpaired ratio divides
 * numbers measured in different phases minutes apart, and the VM's speed moved by 1.6× between them in one run
 * (PyTorch 97 ms against a bptt iteration timed at 16.9 ms in the train phase and 9.6 ms right after the run).
 */
export async function pairedPeer(opts: { batch: number; steps: number; nRec: number; threads: number; rounds: number; stepsPerRound: number; jobs: Job[] },
  iterationMs: (job: Job) => Promise<number>): Promise<PairedPeer> {
  const script = path.join(__dirname, 'torch_peer.py');
  const child = spawn('/usr/bin/python3', [script, '--serve', '--batch', String(opts.batch), '--steps', String(opts.steps),
    '--n-rec', String(opts.nRec), '--threads', String(opts.threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error(`torch_peer.py --serve ended early: ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  try {
    await next(); // ready (set up and warmed up)
    const rows = opts.jobs.map((j) => ({ job: j.name, label: j.label, goal: PEER_GOALS[j.name], torchMs: [] as number[], trainMs: [] as number[], ratios: [] as number[] }));
    for (let r = 0; r < opts.rounds; r++) {
      for (const [i, job] of opts.jobs.entries()) {
        let best = Infinity;
        for (let s = 0; s < opts.stepsPerRound; s++) {
          child.stdin.write('\n');
          best = Math.min(best, Number((await next()).ms));
        }
        const ours = await iterationMs(job);
        rows[i].torchMs.push(best);
        rows[i].trainMs.push(ours);
        rows[i].ratios.push(best / ours);
      }
    }
    return {
      threads: opts.threads, rounds: opts.rounds, stepsPerRound: opts.stepsPerRound,
      rows: rows.map((row) => {
        const interval = medianInterval(row.ratios, 0.95);
        return { ...row, ratio: quantile([...row.ratios].sort((a, b) => a - b), 0.5), ...(interval ? { interval } : {}) };
      }),
    };
  } finally {
    child.stdin.end();
    child.kill();
  }
}

export function runTorchPeer(opts: { batch: number; steps: number; nRec: number; threads: number[]; reps: number }): TorchPeer {
  const script = path.join(__dirname, 'torch_peer.py');
  const args = [script, '--batch', String(opts.batch), '--steps', String(opts.steps), '--n-rec', String(opts.nRec),
    '--threads', opts.threads.join(','), '--reps', String(opts.reps)];
  const r = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.error) return { available: false, reason: `/usr/bin/python3 could not run: ${r.error.message}` };
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const out = JSON.parse(last) as TorchPeer;
    if (out.available || r.status === 3) return out;
  } catch {
    // fall through: not the peer's JSON
  }
  return { available: false, reason: `torch_peer.py exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}` };
}

/** PyTorch step ÷ training iteration (how many times faster train() is), for the rows that have a peer goal. */
export function peerRatios(peer: TorchPeer | undefined, rows: TrainRow[]): { label: string; sampler: string; trainMs: number; ratio: number; goal: number }[] {
  if (!peer?.available) return [];
  return rows.filter((t) => PEER_GOALS[t.job] !== undefined && t.neuron === undefined)
    .map((t) => ({ label: t.label, sampler: t.sampler, trainMs: t.medianMs, ratio: peer.bestMs / t.medianMs, goal: PEER_GOALS[t.job] }));
}
