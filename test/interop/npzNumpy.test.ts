/**
 * A network saved in Node loads in Debian's numpy (`/usr/bin/python3`: the python3 on PATH may lack numpy) with the
 * values Node wrote beside it, and what numpy.savez / savez_compressed write back (weights changed, one matrix in
 * Fortran order) loads in Node bit for bit. Without numpy this is a skip, except under CI=true, where it fails.
 */
process.env.MODPROP_BACKEND = 'reference';

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network } from '../../lib/index';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'npz_numpy.py');

function numpyAvailable(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function bitsOf(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

describe('.npz interop with numpy', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    const version = numpyAvailable();
    if (version === undefined) {
      const why = `numpy is not importable by ${PYTHON} (Debian: apt-get install python3-numpy, listed in .ci/apt-packages)`;
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`      skipped: ${why}`);
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-numpy-'));
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  for (const compressed of [false, true]) {
    it(`Node → numpy.load → numpy.${compressed ? 'savez_compressed' : 'savez'} → Network.load, with identical arrays`, () => {
      const net = Network.create({ nIn: 3, nRec: 9, nOut: 2, seed: 5, tau: 30, cellTypes: [0, 1, 2, 1, 1, 0, 2, 1, 1], typeSigns: [-1, 1, 1] });
      for (let i = 0; i < net.params.bout.length; i++) net.params.bout[i] = Math.fround(0.1 * (i + 1));
      const saved = path.join(dir, 'node.npz');
      net.save(saved);
      const arrays = {
        win: { dtype: '<f4', shape: [3, 9], values: Array.from(net.params.win) },
        wrec: { dtype: '<f4', shape: [9, 9], values: Array.from(net.params.wrec) },
        wout: { dtype: '<f4', shape: [9, 2], values: Array.from(net.params.wout) },
        bout: { dtype: '<f4', shape: [2], values: Array.from(net.params.bout) },
        types: { dtype: '<i4', shape: [9], values: Array.from(net.types) },
        type_signs: { dtype: '<i4', shape: [3], values: [-1, 1, 1] },
      };
      const expected = path.join(dir, 'expected.json');
      fs.writeFileSync(expected, JSON.stringify({ config: { nIn: 3, nRec: 9, nOut: 2, seed: 5, tau: 30, nTypes: 3, dale: true }, arrays }));
      const out = path.join(dir, 'numpy.npz');
      const outExpected = path.join(dir, 'numpy.json');
      const log = execFileSync(PYTHON, [SCRIPT, saved, expected, out, outExpected, compressed ? '1' : '0'], { encoding: 'utf8' });
      assert.match(log, /^numpy \S+ read /);

      const back = Network.load(out);
      const want = JSON.parse(fs.readFileSync(outExpected, 'utf8')) as Record<string, number[]>;
      for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.deepEqual(bitsOf(back.params[k]), want[k], k);
      assert.deepEqual(Array.from(back.types), want.types);
      // What Python did, checked from Node's side too: the change is real, not a copy of the input.
      assert.equal(back.params.bout[0], Math.fround(net.params.bout[0] + 0.25));
      assert.equal(back.params.win[4], Math.fround(net.params.win[4] * -1.5));
      assert.deepEqual({ ...back.config, types: 0 }, { ...net.config, types: 0 });
    });
  }
});
