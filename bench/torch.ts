/**
 * The PyTorch peer (issue 13): bench/torch_peer.py run with Debian's /usr/bin/python3 (python3-torch with OpenBLAS),
 * a BPTT training step of the same network at the paper's size, best of 1 and 2 threads. When `import torch` fails
 * the phase is skipped with the reason. `peerRatios` divides the PyTorch step by train()'s iteration.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { TrainRow } from './trainPhase';

export type TorchPeer =
  | { available: true; torch: string; blas: string; shape: { batch: number; steps: number; nRec: number }; stepMs: Record<string, number>; bestMs: number; bestThreads: number }
  | { available: false; reason: string };

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
  const goals: Record<string, number> = { bptt: 10, 'modprop-online': 25 };
  return rows.filter((t) => goals[t.job] !== undefined && t.neuron === undefined)
    .map((t) => ({ label: t.label, sampler: t.sampler, trainMs: t.medianMs, ratio: peer.bestMs / t.medianMs, goal: goals[t.job] }));
}
