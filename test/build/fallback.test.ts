/**
 * Falling back to the reference engine is loud unless the user chose it: one warning on stderr with the reason and
 * the fix, however many calls follow; `modprop info` says how to get the native engine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

// Two gradient calls and two reads of the engine choice, with the choice reset in between.
const SCRIPT = `
const m = require(${JSON.stringify(path.join(ROOT, 'lib', 'index.ts'))});
const b = require(${JSON.stringify(path.join(ROOT, 'lib', 'backend.ts'))});
const net = m.Network.create({ nIn: 2, nRec: 8, nOut: 2, seed: 1 });
const batch = { x: new Float32Array(2 * 5 * 2).fill(0.5), batchSize: 2, steps: 5, labels: Int32Array.of(0, 1) };
m.gradients(net, batch, { rule: 'bptt' });
b.resetBackendForTests();
m.gradients(net, batch, { rule: 'bptt' });
console.log(m.backend.name);
`;

function run(args: string[], env: Record<string, string | undefined>): { status: number | null; stdout: string; stderr: string } {
  const full: NodeJS.ProcessEnv = { ...process.env };
  delete full.MODPROP_BACKEND;
  delete full.MODPROP_ADDON_PATH;
  Object.assign(full, env);
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', ...args], { cwd: ROOT, env: full, encoding: 'utf8' });
}

const MISSING = path.join(ROOT, 'no-such-dir', 'modprop.node');

describe('reference-engine fallback', function () {
  this.timeout(60_000);

  it('warns once on stderr with the reason and the fix when the addon is missing', () => {
    const r = run(['-e', SCRIPT], { MODPROP_ADDON_PATH: MISSING });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'reference');
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('modprop: warning:'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0], /using the reference engine .* because native addon not found: MODPROP_ADDON_PATH=.*no-such-dir/);
    assert.match(warnings[0], /npm rebuild modprop --build-from-source/);
    assert.match(warnings[0], /MODPROP_BACKEND=reference/);
  });

  it('stays silent when the user chose the reference engine', () => {
    const r = run(['-e', SCRIPT], { MODPROP_ADDON_PATH: MISSING, MODPROP_BACKEND: 'reference' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'reference');
    assert.equal(r.stderr, '');
  });

  it('`modprop info` tells how to get the native engine when it is missing', () => {
    const r = run([path.join(ROOT, 'lib', 'cli.ts'), 'info', '--json'], { MODPROP_ADDON_PATH: MISSING });
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { engine: string; nativeFix: string | null };
    assert.equal(info.engine, 'reference');
    assert.match(info.nativeFix ?? '', /npm rebuild modprop --build-from-source/);
    const text = run([path.join(ROOT, 'lib', 'cli.ts'), 'info'], { MODPROP_ADDON_PATH: MISSING });
    assert.match(text.stdout, /to get it +build it from source with `npm rebuild modprop --build-from-source`/);
  });
});
