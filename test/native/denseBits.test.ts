/**
 * The HARD CONSTRAINT of the sparse path (issue 13 goal 4): a dense rate network's results must not change by a single
 * bit. test/native/fixtures/dense-fingerprints.json holds fingerprints of gradients (the rules through every code
 * path the sparse path touched: network step, reverse product, Wrec gradient, online eligibility, at N = 37 and at
 * N = 600 with packed panels, 1 and 2 threads) and forward(), recorded by scripts/dense-fingerprints.ts with the main
 * branch's addon before the sparse path, per compiler and SIMD level (the N = 600 ones re-recorded when
 * Network.create above N = 200 moved to ziggurat draws, and again when it moved to one float32 matrix and a radius
 * to 1e-7: their network changed, not the kernels; the N = 37 ones still hold). This build must reproduce them at each level
 * (each in a child process: the level is chosen once per process). A build or CPU with no recorded level skips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeNative } from './common';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'dense-fingerprints.json');

describeNative('dense results are bit-identical to the build before the sparse path', () => {
  const recorded = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Record<string, Record<string, string>>;
  for (const simd of ['', 'avx2', 'scalar']) {
    it(`MODPROP_SIMD=${simd || '(best)'}: every fingerprint matches`, function () {
      this.timeout(300_000);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-dense-bits-'));
      try {
        const out = path.join(dir, 'now.json');
        const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(ROOT, 'scripts', 'dense-fingerprints.ts'),
          path.join(ROOT, 'lib', 'index.ts'), out], { env: { ...process.env, MODPROP_SIMD: simd, MODPROP_BACKEND: '' }, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const now = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, Record<string, string>>;
        const [key] = Object.keys(now);
        if (recorded[key] === undefined) this.skip();  // another compiler or CPU: nothing recorded to compare with
        assert.deepEqual(Object.keys(now[key]).sort(), Object.keys(recorded[key]).sort());
        const changed = Object.keys(recorded[key]).filter((k) => now[key][k] !== recorded[key][k]);
        assert.deepEqual(changed, [], `${key}: results changed`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
