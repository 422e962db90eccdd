/**
 * Adversarial suite (issue 11): thousands of seeded malformed calls across the public API, run in a child process so
 * that a crash or a hang is observed rather than suffered. Every call must end as a clean ModpropError naming the
 * broken argument, or as a valid answer (finite, of the right shape); the counts by outcome are printed.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CALLS = Number(process.env.MODPROP_ADVERSARIAL_CALLS ?? 2400);
const SEED = Number(process.env.MODPROP_ADVERSARIAL_SEED ?? 11);

describe('adversarial: malformed calls across the public API', function () {
  this.timeout(600_000);

  it(`${CALLS} seeded malformed calls end as clean errors or valid results (no other error, wrong answer, crash or hang)`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-adversarial-'));
    try {
      const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'runner.ts'), String(SEED), String(CALLS), dir],
        { encoding: 'utf8', timeout: 480_000, maxBuffer: 256 * 2 ** 20 });
      const outcomes = path.join(dir, 'outcomes.jsonl');
      const lines = (fs.existsSync(outcomes) ? fs.readFileSync(outcomes, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const results = lines.filter((l) => l.outcome);
      const counts: Record<string, number> = { clean: 0, valid: 0, other: 0, wrong: 0, crash: 0, hang: 0 };
      for (const l of results) counts[l.outcome] += 1;
      const finished = lines.some((l) => l.done !== undefined);
      const lastStart = [...lines].reverse().find((l) => l.start !== undefined);
      if (!finished && lastStart && !results.some((l) => l.i === lastStart.start)) {
        counts[r.error || r.signal === 'SIGTERM' ? 'hang' : 'crash'] += 1;
        results.push({ ...lastStart, outcome: r.error ? 'hang' : 'crash', detail: `${r.signal ?? r.status}: ${r.stderr.slice(-1500)}` });
      }
      const byApi: Record<string, number> = {};
      for (const l of results) byApi[l.api] = (byApi[l.api] ?? 0) + 1;
      // eslint-disable-next-line no-console
      console.log(`      ${results.length} calls (seed ${SEED}): ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}\n      by API: ${JSON.stringify(byApi)}`);
      const bad = results.filter((l) => l.outcome !== 'clean' && l.outcome !== 'valid');
      const unhandled = lines.filter((l) => l.unhandled);
      assert.deepEqual(unhandled, [], 'no unhandled rejections');
      assert.deepEqual(bad.slice(0, 15).map((l) => `${l.outcome}: ${l.api}(${l.arg}) ${l.detail ?? ''}`), [], `${bad.length} calls ended badly`);
      assert.ok(finished, `the runner did not finish: ${r.stderr.slice(-2000)}`);
      assert.equal(results.length, CALLS);
      assert.ok(counts.clean > CALLS / 4 && counts.valid > 0, 'the generator exercises both refusals and valid calls');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
