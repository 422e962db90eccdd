/**
 * compare's runs on a pool of worker threads: each run is one job of lib/study/run.ts's compare worker; its points,
 * alignments and result land in its RunRecord as they arrive, with a progress line. Ctrl-C / SIGTERM aborts the
 * running workers, whose curves so far are kept.
 */
import type { Worker } from 'node:worker_threads';
import { startCompareWorker } from '../study/run';
import { formatSeconds } from './common';
import type { RunRecord } from './compare';
import type { CompareControl, CompareJob, CompareMessage } from './compareWorker';
import { Progress, progressMode } from './progress';
import { onStopSignals, type StopSignal } from './runFiles';

export interface PoolOutcome {
  interrupted: boolean;
  elapsedMs: number;
  /** The stop signal received, if any. */
  signal?: StopSignal;
}

/** Runs jobs[i] into runs[i] with at most `lanes` workers at once. */
export async function runComparePool(jobs: CompareJob[], runs: RunRecord[], o: { lanes: number; iterations: number; quiet?: boolean; metric: 'accuracy' | 'nmse' }): Promise<PoolOutcome> {
  const total = jobs.length * o.iterations;
  const progress = new Progress(progressMode(o.quiet), total, `${jobs.length} runs`);
  const done = new Array<number>(jobs.length).fill(0);
  const live = new Set<Worker>();
  let interrupted = false;
  const signals = onStopSignals(() => {
    interrupted = true;
    for (const w of live) w.postMessage({ type: 'abort' } satisfies CompareControl);
  });
  const started = Date.now();
  let lastLine = started;

  const runOne = (index: number): Promise<void> => new Promise((resolve) => {
    const rec = runs[index];
    rec.status = 'running';
    const worker = startCompareWorker(jobs[index]);
    live.add(worker);
    const end = (): void => worker.postMessage({ type: 'exit' } satisfies CompareControl);
    const finish = (): void => {
      live.delete(worker);
      if (rec.status === 'running') rec.status = interrupted ? 'interrupted' : 'failed';
      if (rec.status === 'failed' && rec.error === undefined) rec.error = 'the worker stopped without a result';
      resolve();
    };
    worker.on('message', (m: CompareMessage) => {
      if (m.type === 'point') {
        rec.curve.push(m.point);
        done[index] = m.point.iteration;
        const sum = done.reduce((s, x) => s + x, 0);
        const status = `${runs.filter((r) => r.status === 'done').length}/${runs.length} runs done, ${formatSeconds(Date.now() - started)}`;
        // Without a terminal, a line at most every 30 s, so a long study still shows that it moves.
        const now = Date.now();
        const line = now - lastLine >= 30_000 ? `${(100 * sum / total).toFixed(1)} % of all iterations, ${status}` : undefined;
        if (line) lastLine = now;
        progress.update(sum, status, line);
      } else if (m.type === 'alignment') {
        rec.alignment?.push({ iteration: m.iteration, cosine: m.cosine });
      } else if (m.type === 'done') {
        rec.status = 'done';
        rec.engine = m.engine;
        rec.final = m.result.final;
        rec.curve = m.result.curve;
        const fin = rec.final;
        const value = o.metric === 'accuracy' ? `accuracy ${(100 * (fin.accuracy ?? NaN)).toFixed(1)} %` : `nmse ${fin.nmse?.toFixed(4)}`;
        progress.update(done.reduce((s, x) => s + x, 0), `${runs.filter((r) => r.status === 'done').length}/${runs.length} done`,
          `${rec.label}, seed ${rec.seed}: loss ${fin.loss.toFixed(4)}, ${value} (${formatSeconds(fin.elapsedMs)})`);
        end();
      } else if (m.type === 'aborted') {
        rec.status = 'interrupted';
        if (m.result) rec.curve = m.result.curve;
        end();
      } else {
        rec.status = 'failed';
        rec.error = m.message;
        progress.update(done.reduce((s, x) => s + x, 0), 'a run failed', `${rec.label}, seed ${rec.seed}: failed: ${m.message}`);
        end();
      }
    });
    worker.on('error', (err) => {
      if (rec.status === 'running') {
        rec.status = 'failed';
        rec.error = err.message;
      }
    });
    worker.on('exit', finish);
  });

  let nextJob = 0;
  const lane = async (): Promise<void> => {
    while (!interrupted && nextJob < jobs.length) await runOne(nextJob++);
  };
  await Promise.all(Array.from({ length: Math.min(o.lanes, jobs.length) }, lane));
  progress.stop();
  signals.dispose();
  return { interrupted, elapsedMs: Date.now() - started, signal: signals.received() };
}
