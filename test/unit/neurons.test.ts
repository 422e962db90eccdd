/** The neuron option of the public API: validation messages, config, save/load, checkpoints, engines, determinism. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, ModpropError, gradients, gradientsAsync, loadCheckpoint, tasks, train, type NetworkConfig } from '../../lib/index';
import { backend, engineFor } from '../../lib/backend';
import { sameBits } from '../helpers';

const task = tasks.delayedXor({ cueSteps: 10, delaySteps: 20 });
const base = { nIn: 2, nRec: 12, nOut: 2, seed: 4 };
const create = (neuron: unknown): Network => Network.create({ ...base, neuron } as NetworkConfig);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-neurons-'));

function throwsExactly(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: Error) => err instanceof ModpropError && err.message === message, message);
}

describe('NetworkConfig.neuron', () => {
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('rejects bad neuron options with a message naming the field', () => {
    throwsExactly(() => create('lif'), "Expected an object for config.neuron but received 'lif'");
    throwsExactly(() => create({ model: 'hh' }), "Expected one of 'rate', 'lif', 'alif' for config.neuron.model but received 'hh'");
    throwsExactly(() => create({ model: 'lif', tauM: 0 }), 'Expected a positive finite number for config.neuron.tauM but received 0');
    throwsExactly(() => create({ model: 'lif', threshold: -1 }), 'Expected a positive finite number for config.neuron.threshold but received -1');
    throwsExactly(() => create({ model: 'alif', refractory: 1.5 }), 'Expected an integer between 0 and 1000000 for config.neuron.refractory but received 1.5');
    throwsExactly(() => create({ model: 'alif', beta: -0.1 }), 'Expected a finite number ≥ 0 for config.neuron.beta but received -0.1');
    throwsExactly(() => create({ model: 'lif', beta: 0.1 }),
      "Expected only the options model, tauM, threshold, refractory, dampening, tauOut for config.neuron but received unknown option 'beta'");
    throwsExactly(() => create({ model: 'rate', tauM: 20 }), "Expected only the options model for config.neuron but received unknown option 'tauM'");
    throwsExactly(() => create({ model: 'alif', beta: 2 }),
      'Expected a beta ≤ (1 + exp(−dt/tauA)) · threshold / dampening = 1.330 (a larger one makes the adaptation\'s gradient explode) for config.neuron.beta but received 2');
  });

  it('a rate neuron is the default network, bit for bit, with no neuron in its config', () => {
    const a = Network.create(base);
    const b = create({ model: 'rate' });
    assert.equal('neuron' in a.config, false);
    assert.equal('neuron' in b.config, false);
    for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(sameBits(a.params[k], b.params[k]), k);
  });

  it('records the defaults, and alpha comes from tauM', () => {
    const net = create({ model: 'alif', tauM: 10 });
    assert.deepEqual(net.config.neuron, { model: 'alif', tauM: 10, threshold: 0.2, refractory: 2, dampening: 0.3, tauOut: 20, tauA: 200, beta: 0.07 });
    assert.equal(net.alpha, Math.exp(-1 / 10));
    assert.deepEqual(create({ model: 'lif' }).config.neuron, { model: 'lif', tauM: 20, threshold: 0.2, refractory: 2, dampening: 0.3, tauOut: 20 });
  });

  it('survives save/load, fromParams(net.config) and a checkpoint', async () => {
    const net = create({ model: 'alif', tauA: 50, beta: 0.1, refractory: 3 });
    const file = path.join(tmp, 'alif.npz');
    net.save(file);
    const back = Network.load(file);
    assert.deepEqual(back.config.neuron, net.config.neuron);
    assert.deepEqual(Network.fromParams(net.config, net.params).config.neuron, net.config.neuron);
    const batch = task.sample(3, 2);
    assert.ok(sameBits(back.forward(batch).z, net.forward(batch).z));
    const cp = path.join(tmp, 'alif.ckpt');
    const run = await train(net, task, { rule: 'eprop', iterations: 2, batchSize: 4, evalEvery: 1, seed: 1, checkpoint: cp });
    assert.equal(run.metadata.engine, backend.name, 'the run record names the engine that ran it (eprop runs natively on alif)');
    assert.deepEqual(loadCheckpoint(cp).network.config.neuron, net.config.neuron);
  });

  it('runs what the native engine lacks on the reference engine; asking for native there is refused by name', () => {
    const net = create({ model: 'lif' });
    const batch = task.sample(2, 1);
    throwsExactly(() => gradients(net, batch, { rule: 'rtrl' }, { backend: 'native' }),
      "Expected 'reference' for rtrl on lif neurons (the native engine runs the forward pass and bptt, tbptt, eprop, eprop online, mdgl, modprop, modprop online (lif), rflo, rflo online on spiking neurons) for options.backend but received 'native'");
    const g = gradients(net, batch, { rule: 'rtrl' });
    assert.ok(sameBits(g.grads.wrec, gradients(net, batch, { rule: 'rtrl' }, { backend: 'reference' }).grads.wrec));
  });

  it('the native engine itself refuses the spiking rules it does not implement, by name', function () {
    if (backend.native === undefined) this.skip();
    const rule = { rule: 'modprop', feedback: 'type', mu: 0.25, online: true, window: 0, learningSignal: 'symmetric' } as const;
    throwsExactly(() => engineFor('native').gradients(create({ model: 'alif' }), task.sample(2, 1), rule, 'xent-last'),
      'Expected online: false for rule.online of modprop on alif neurons (online ModProp exists for rate and lif units: alif\'s adaptation makes the credit filter per unit, not per type) but received true');
  });

  it('refuses online modprop for alif, which has no causal type filter, and runs it for lif', () => {
    throwsExactly(() => gradients(create({ model: 'alif' }), task.sample(2, 1), { rule: 'modprop', online: true }),
      'Expected online: false for modprop on alif neurons (online ModProp exists for rate and lif units) for rule.online but received true');
    const g = gradients(create({ model: 'lif' }), task.sample(2, 1), { rule: 'modprop', online: true });
    assert.ok(g.grads.wrec.some((v) => v !== 0));
  });

  it('runs rflo on lif and alif, offline and online, on the default engine (no longer refused)', () => {
    for (const model of ['lif', 'alif'] as const) {
      for (const online of [false, true]) {
        const g = gradients(create({ model }), task.sample(4, 2), { rule: 'rflo', online });
        assert.ok(g.grads.wrec.some((v) => v !== 0) && g.grads.wrec.every(Number.isFinite), `${model} online ${online}`);
      }
    }
  });

  it('is deterministic: the same seed gives bit-identical spikes and gradients, sync and async', async () => {
    const batch = task.sample(4, 3);
    for (const model of ['lif', 'alif'] as const) {
      const a = gradients(create({ model }), batch, { rule: 'eprop', online: true });
      const b = await gradientsAsync(create({ model }), batch, { rule: 'eprop', online: true });
      assert.ok(a.grads.wrec.some((v) => v !== 0), 'non-trivial');
      for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(sameBits(a.grads[k], b.grads[k]), `${model} ${k}`);
      assert.ok(sameBits(create({ model }).forward(batch).z, create({ model }).forward(batch).z));
    }
  });
});
