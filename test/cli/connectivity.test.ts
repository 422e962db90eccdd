/**
 * `--connectivity <p>` on `train` and `compare` (lib/cli/preset.ts, a network-recipe flag like --subtypes): the run's
 * JSON records it in config.network, `--rerun` rebuilds the same sparse network and draws the same curve, the trained
 * network keeps its weights outside the mask at 0, a bad p names the flag, and --rerun refuses it beside the file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network } from '../../lib/index';
import { cli } from './run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-connectivity-'));
const SHORT = ['--task', 'delayed-xor', '--delay', '10', '--cue', '5', '--n-rec', '24', '--iterations', '3', '--eval-every', '1', '--quiet'];

describe('cli --connectivity', function () {
  this.timeout(120_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const file = (name: string): string => path.join(tmp, name);

  it('train records it, --rerun draws the same curve on the same mask, and the saved network keeps the mask', async () => {
    const r = await cli(['train', '--rule', 'bptt', '--connectivity', '0.15', '--out', file('run.json'), '--save-network', file('net.npz'), ...SHORT]);
    assert.equal(r.code, 0, r.stderr);
    const run = JSON.parse(fs.readFileSync(file('run.json'), 'utf8'));
    assert.equal(run.config.network.connectivity, 0.15);
    const net = Network.load(file('net.npz'));
    assert.equal(net.config.connectivity, 0.15);
    assert.ok(net.mask !== null);
    for (let k = 0; k < net.mask!.length; k++) if (net.mask![k] === 0) assert.equal(net.params.wrec[k], 0, `wrec[${k}] outside the mask`);
    const again = await cli(['train', '--rerun', file('run.json'), '--out', file('again.json'), '--quiet']);
    assert.equal(again.code, 0, again.stderr);
    const rerun = JSON.parse(fs.readFileSync(file('again.json'), 'utf8'));
    assert.equal(rerun.config.network.connectivity, 0.15);
    assert.deepEqual(rerun.curve.map((p: { loss: number }) => p.loss), run.curve.map((p: { loss: number }) => p.loss));
    // The same flags without --connectivity train another (dense) network: the curve above depended on the mask.
    const dense = await cli(['train', '--rule', 'bptt', '--out', file('dense.json'), ...SHORT]);
    assert.equal(dense.code, 0, dense.stderr);
    const d = JSON.parse(fs.readFileSync(file('dense.json'), 'utf8'));
    assert.equal(d.config.network.connectivity, 1);
    assert.notDeepEqual(d.curve.map((p: { loss: number }) => p.loss), run.curve.map((p: { loss: number }) => p.loss));
  });

  it('--rerun takes it from the file: typing it beside --rerun is a usage error naming it', async () => {
    const r = await cli(['train', '--rerun', file('run.json'), '--connectivity', '0.5']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--rerun takes every run setting from .*; leave out --connectivity/);
  });

  it('p > 1 is an error naming --connectivity; p ≤ 0 is refused by the flag parser', async () => {
    const over = await cli(['train', '--rule', 'bptt', '--connectivity', '1.5', ...SHORT]);
    assert.notEqual(over.code, 0);
    assert.match(over.stderr, /Expected a connection probability p with 0 < p ≤ 1 for --connectivity but received 1\.5/);
    const zero = await cli(['train', '--rule', 'bptt', '--connectivity', '0', ...SHORT]);
    assert.notEqual(zero.code, 0);
    assert.match(zero.stderr, /--connectivity/);
  });

  it('compare records it beside the other recipe flags', async () => {
    const r = await cli(['compare', '--rules', 'bptt,eprop', '--seeds', '1', '--jobs', '1', '--connectivity', '0.3', '--out', file('cmp.json'), ...SHORT]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(fs.readFileSync(file('cmp.json'), 'utf8'));
    assert.equal(j.config.connectivity, 0.3);
    assert.equal(j.config.network.connectivity, 0.3);
    assert.ok(j.runs.every((run: { status: string }) => run.status === 'done'));
  });
});
