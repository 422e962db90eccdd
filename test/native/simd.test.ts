/**
 * The float kernels are chosen once at load (AVX-512, AVX2 or the plain loops) and MODPROP_SIMD=avx2|scalar lowers
 * the choice. Each level runs in its own child process (the level is fixed for the life of a process); every level
 * must report itself through info().simd and give the default level's gradients to float rounding, on sizes that
 * exercise the edge tiles (odd batch, N not a multiple of any vector width) and both losses.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { MATRICES, describeNative, norm, relNormError } from './common';

const root = path.resolve(__dirname, '..', '..');
const LEVELS = ['scalar', 'avx2', 'avx512'] as const;
type Level = (typeof LEVELS)[number];

interface Run {
  simd: string;
  results: { label: string; loss: number; grads: Record<string, number[]> }[];
}

// Prints { simd, results } for a fixed set of rules, networks and batches, all seeded.
const script = `
const m = require(${JSON.stringify(path.join(root, 'lib', 'index.ts'))});
const c = require(${JSON.stringify(path.join(__dirname, 'common.ts'))});
if (m.backend.name !== 'native') throw new Error('native engine not in use: ' + m.backend.reason);
m.setThreads(2);
const rules = [{ rule: 'bptt' }, { rule: 'eprop', online: true }, { rule: 'mdgl', feedback: 'cell' },
  { rule: 'modprop' }, { rule: 'modprop', online: true }, { rule: 'modprop', feedback: 'cell', mu: 0.5 }];
const cases = [
  { nRec: 37, batch: 7, steps: 60, loss: 'xent-last', layout: 1 },
  { nRec: 53, batch: 5, steps: 40, loss: 'mse', layout: 3 },
  { nRec: 120, batch: 32, steps: 100, loss: 'xent-last', layout: 1 },
];
const results = [];
for (const k of cases) {
  const net = c.makeNet({ nIn: 3, nRec: k.nRec, nOut: 2, seed: 5, tau: 15, layout: c.LAYOUTS[k.layout],
    scaled: { wrecScale: 1.3, winScale: 1.5 } });
  const batch = c.makeBatch(net, k.batch, k.steps, k.loss, 6);
  for (const r of rules) {
    const g = m.gradients(net, batch, r, { backend: 'native', loss: k.loss });
    const grads = {};
    for (const name of c.MATRICES) grads[name] = Array.from(g.grads[name]);
    results.push({ label: JSON.stringify({ ...k, ...r }), loss: g.loss, grads });
  }
}
console.log(JSON.stringify({ simd: m.backend.native.simd, results }));
`;

function runWith(level: Level | undefined): Run {
  const env = { ...process.env };
  delete env.MODPROP_BACKEND;  // other test files force the reference engine for this process
  delete env.MODPROP_SIMD;
  if (level) env.MODPROP_SIMD = level;
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { encoding: 'utf8', cwd: root, env, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `MODPROP_SIMD=${level ?? '(unset)'}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Run;
}

describeNative('SIMD levels (MODPROP_SIMD)', () => {
  let base: Run;
  before(function () {
    this.timeout(120000);
    base = runWith(undefined);
  });

  it('the default level is a run-time choice among scalar, avx2 and avx512, and the gradients are non-trivial', () => {
    assert.ok((LEVELS as readonly string[]).includes(base.simd), `info().simd = ${base.simd}`);
    assert.equal(base.results.length, 18);
    for (const r of base.results) {
      assert.ok(Number.isFinite(r.loss) && r.loss > 0, `${r.label}: loss ${r.loss}`);
      for (const k of MATRICES) assert.ok(norm(r.grads[k]) > 1e-8, `${r.label}: ${k} is zero`);
    }
  });

  for (const level of ['avx2', 'scalar'] as const) {
    it(`MODPROP_SIMD=${level} is reported by info().simd and gives the default level's gradients`, function () {
      this.timeout(120000);
      const run = runWith(level);
      // A CPU without the requested level keeps the best one it has, which is then below the request.
      const expected = LEVELS.indexOf(level) <= LEVELS.indexOf(base.simd as Level) ? level : base.simd;
      assert.equal(run.simd, expected);
      assert.equal(run.results.length, base.results.length);
      run.results.forEach((r, i) => {
        const b = base.results[i];
        assert.equal(r.label, b.label);
        assert.ok(Math.abs(r.loss - b.loss) <= 1e-5 * Math.abs(b.loss), `${r.label}: loss ${r.loss} vs ${b.loss}`);
        for (const k of MATRICES) {
          const e = relNormError(r.grads[k], b.grads[k]);
          assert.ok(e <= 1e-4, `${r.label}, ${level}: ${k} relative error ${e.toExponential(2)}`);
        }
      });
    });
  }
});
