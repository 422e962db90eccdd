/**
 * Rate-unit networks compute the same bits as before the neuron axis reached the native engine (the study running
 * on them must not move): test/native/rateBitsScript.ts hashes the native forward pass and every native rule's
 * gradients (both losses, threads 1 and 2, the packed-panel path at N = 520) at each SIMD level in its own child
 * process, and compares them with fixtures/rateBits.json, recorded from main at 0d22f72 with the same script (its
 * N = 520 cases re-recorded when Network.create above N = 200 moved to ziggurat draws and a float32 radius, and
 * when it moved to one float32 matrix and a radius to 1e-7). A
 * level this CPU lacks is skipped (its child reports another level). A hash names no correctness (parity.test.ts
 * does): when a change is meant to move these numbers, record them again in the same commit and say why.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeNative } from './common';

const root = path.resolve(__dirname, '..', '..');
const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'rateBits.json'), 'utf8')) as { levels: Record<string, Record<string, string>> };

describeNative('rate-unit networks: native results bit-identical to those recorded before spiking', () => {
  for (const level of Object.keys(recorded.levels)) {
    it(`MODPROP_SIMD=${level}`, function () {
      const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'rateBitsScript.ts')], {
        cwd: root, encoding: 'utf8', env: { ...process.env, MODPROP_SIMD: level, MODPROP_BACKEND: '' },
      });
      assert.equal(run.status, 0, run.stderr);
      const got = JSON.parse(run.stdout) as { simd: string; hashes: Record<string, string> };
      if (got.simd !== level) this.skip();
      const want = recorded.levels[level];
      assert.ok(Object.keys(want).length >= 40, 'the fixture covers the cases');
      const moved = Object.keys(want).filter((k) => got.hashes[k] !== want[k]);
      assert.deepEqual(moved, [], `results moved: ${moved.join('; ')}`);
    });
  }
});
