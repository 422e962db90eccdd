/**
 * The pure parts of the bench's memory phase (bench/memory.ts, bench/targets.ts): bptt's memory estimate, the skip
 * decision, how a child's result becomes a row (a crashed or killed child is a failed row, never an exception), and
 * the SPEC §7 memory target.
 */
import assert from 'node:assert/strict';
import {
  MEMORY_SHAPE, bpttChunkBytes, bpttWorkspaceBytes, childOutcome, inputBytes, planMemoryRun, runChild,
  type MemoryResults, type MemoryRow,
} from '../../bench/memory';
import { judgeMemory } from '../../bench/targets';

const GB = 1e9;

describe('bench memory phase', () => {
  describe('bptt workspace estimate', () => {
    it('matches offlineChunk\'s request at B = 1, T = 10⁶, N = 120, I = K = 2', () => {
      // z and g: 2 · 4 · 10⁶ · 120; x and δ: 4 · 10⁶ · 2 each; four one-step blocks of 480 B rounded to 512; y 8 → 64;
      // 512 of slack.
      const expected = 960_000_000 + 8_000_000 + 8_000_000 + 4 * 512 + 64 + 512;
      assert.equal(bpttWorkspaceBytes(MEMORY_SHAPE, 1e6, 2), expected);
    });

    it('is about T·B·N·4 bytes × the two stored arrays, linear in T', () => {
      for (const steps of [1e3, 1e5, 1e7]) {
        const bytes = bpttWorkspaceBytes(MEMORY_SHAPE, steps, 1);
        const stored = 2 * 4 * steps * MEMORY_SHAPE.batch * MEMORY_SHAPE.nRec;
        assert.ok(bytes >= stored && bytes < 1.05 * stored, `T = ${steps}: ${bytes} vs ${stored}`);
      }
    });

    it('sums one workspace per chunk, min(threads, B) chunks of the batch split as gradients.cc splits it', () => {
      const shape = { ...MEMORY_SHAPE, batch: 5 };
      // 5 rows over 2 chunks: rows 2 and 3.
      assert.equal(bpttWorkspaceBytes(shape, 1000, 2), bpttChunkBytes(2, 1000, shape) + bpttChunkBytes(3, 1000, shape));
      assert.equal(bpttWorkspaceBytes(shape, 1000, 8), 5 * bpttChunkBytes(1, 1000, shape));
      assert.equal(bpttWorkspaceBytes(shape, 1000, 1), bpttChunkBytes(5, 1000, shape));
    });

    it('counts the input batch as x and the labels', () => {
      assert.equal(inputBytes(MEMORY_SHAPE, 1e6), 8_000_004);
    });
  });

  describe('skip decision', () => {
    it('runs the online rules at any T, with no estimate', () => {
      assert.deepEqual(planMemoryRun('modprop-online', MEMORY_SHAPE, 1e9, 2, 1), {});
      assert.deepEqual(planMemoryRun('eprop-online', MEMORY_SHAPE, 1e9, 2, 1), {});
    });

    it('runs bptt up to the limit and skips it above, saying by how much', () => {
      const run = planMemoryRun('bptt', MEMORY_SHAPE, 1e6, 2, 3 * GB);
      assert.equal(run.skip, undefined);
      assert.equal(run.estimateBytes, bpttWorkspaceBytes(MEMORY_SHAPE, 1e6, 2));
      const skipped = planMemoryRun('bptt', MEMORY_SHAPE, 1e7, 2, 3 * GB);
      assert.equal(skipped.skip, 'skipped: estimated 9.76 GB > limit 3 GB');
      assert.equal(planMemoryRun('bptt', MEMORY_SHAPE, 1e6, 2, 0.5 * GB).skip, 'skipped: estimated 0.98 GB > limit 0.5 GB');
    });

    it('runs bptt when the estimate equals the limit exactly', () => {
      const bytes = bpttWorkspaceBytes(MEMORY_SHAPE, 12345, 1);
      assert.equal(planMemoryRun('bptt', MEMORY_SHAPE, 12345, 1, bytes).skip, undefined);
      assert.ok(planMemoryRun('bptt', MEMORY_SHAPE, 12345, 1, bytes - 1).skip);
    });
  });

  describe('child results', () => {
    const report = { steps: 1000, threads: 2, rssBeforeKb: 70000, maxRssKb: 71000, ms: 3 };
    const ok = { status: 0, signal: null, stdout: `${JSON.stringify(report)}\n`, stderr: '', error: undefined };

    it('reads the report from the last line of stdout', () => {
      assert.deepEqual(childOutcome({ ...ok, stdout: `noise\n${JSON.stringify(report)}\n` }), { ok: true, report });
    });

    it('turns an exit code, a signal, a timeout and a missing report into one-line reasons', () => {
      assert.deepEqual(childOutcome({ ...ok, status: 1, stdout: '', stderr: 'warning\nmemoryChild: no addon\n' }),
        { ok: false, error: 'exit code 1: memoryChild: no addon' });
      assert.deepEqual(childOutcome({ ...ok, status: null, signal: 'SIGKILL', stdout: '' }),
        { ok: false, error: 'killed by SIGKILL (out of memory?)' });
      const timeout = Object.assign(new Error('spawnSync node ETIMEDOUT'), { code: 'ETIMEDOUT' });
      assert.deepEqual(childOutcome({ ...ok, status: null, signal: 'SIGTERM', stdout: '', error: timeout }), { ok: false, error: 'timed out' });
      assert.deepEqual(childOutcome({ ...ok, stdout: 'not json\n' }), { ok: false, error: 'no report on stdout' });
      assert.deepEqual(childOutcome({ ...ok, stdout: '{"steps":1}\n' }), { ok: false, error: 'no report on stdout' });
    });

    it('reports a real crashed child as a failure instead of throwing', () => {
      const crashed = runChild(process.execPath, ['-e', 'console.error("boom"); process.kill(process.pid, "SIGKILL")'], 30);
      assert.deepEqual(crashed, { ok: false, error: 'killed by SIGKILL (out of memory?): boom' });
      const missing = runChild('/nonexistent/node', [], 30);
      assert.equal(missing.ok, false);
      assert.match((missing as { error: string }).error, /^could not run the child/);
    });
  });

  describe('target "online rules: T = 10⁶ in < 200 MB"', () => {
    const row = (job: MemoryRow['job'], steps: number, peakMB?: number): MemoryRow => ({
      job, label: job, steps, status: peakMB === undefined ? 'failed' : 'ok', peakMB, baselineMB: 70, batchMB: 8,
      detail: peakMB === undefined ? 'failed: killed by SIGKILL' : undefined,
    });
    const results = (rows: MemoryRow[]): MemoryResults => ({ shape: MEMORY_SHAPE, steps: [1e3, 1e6], limitGB: 3, baselines: [], rows });

    it('passes below 200 MB and misses at or above it, on the worse online rule; bptt does not count', () => {
      const pass = judgeMemory(results([row('modprop-online', 1e6, 90), row('eprop-online', 1e6, 80), row('bptt', 1e6, 1000)]), '');
      assert.equal(pass.status, 'PASS');
      assert.equal(pass.value, 90);
      const miss = judgeMemory(results([row('modprop-online', 1e6, 200), row('eprop-online', 1e6, 80)]), '');
      assert.equal(miss.status, 'MISS');
      assert.equal(miss.value, 200);
    });

    it('is n/a when T = 10⁶ was not measured, when a child failed, or without the phase', () => {
      assert.equal(judgeMemory(results([row('modprop-online', 1e3, 90)]), '').status, 'n/a');
      const failed = judgeMemory(results([row('modprop-online', 1e6), row('eprop-online', 1e6, 80)]), '');
      assert.equal(failed.status, 'n/a');
      assert.match(failed.detail, /SIGKILL/);
      const absent = judgeMemory(undefined, 'not run');
      assert.equal(absent.status, 'n/a');
      assert.equal(absent.detail, 'not run');
    });
  });
});
