/**
 * Adversarial .npz files (issue 11): seeded corruptions of a saved network — flipped, overwritten, inserted and
 * removed bytes, truncations — and rebuilt archives whose entries lie (wrong dtype, shape, order or size, a header
 * claiming 2^40 elements, a deflate bomb whose headers understate its size, duplicate, missing and extra entries,
 * non-finite or Dale-breaking values, configs that contradict the arrays). `Network.load` must either refuse with a
 * ModpropError naming the file or return exactly the network that was saved: a corrupt file that loads as a
 * different network is a silent wrong answer. Runs in a child process so that a crash or an allocation failure is
 * observed rather than suffered.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CASES = Number(process.env.MODPROP_ADVERSARIAL_NPZ ?? 1500);

describe('adversarial: corrupt and lying .npz network files', function () {
  this.timeout(300_000);

  it(`${CASES} seeded corruptions and ~40 crafted archives: a clean ModpropError or the network that was saved`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-npz-outcomes-'));
    const outcomes = path.join(dir, 'outcomes.jsonl');
    let lines: Record<string, any>[];
    let r;
    try {
      r = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'npzRunner.ts'), String(CASES), outcomes],
        { encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 2 ** 20 });
      lines = (fs.existsSync(outcomes) ? fs.readFileSync(outcomes, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const done = lines.find((l) => l.done);
    assert.ok(done, `the runner died or hung (${r.signal ?? r.status}) after ${JSON.stringify(lines.at(-1))}: ${r.stderr.slice(-1500)}`);
    const bad = lines.filter((l) => l.outcome && !['clean', 'same'].includes(l.outcome));
    // eslint-disable-next-line no-console
    console.log(`      ${JSON.stringify(done.counts)}`);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} files ended badly`);
    assert.equal(done.total, CASES + done.crafted);
    assert.ok(done.counts.clean > CASES / 2 && done.counts.same > 0, 'both refusals and harmless corruptions occur');
    assert.ok(done.crafted >= 30, 'the crafted archives ran');
  });
});
