/** `--neuron` on the CLI: a spiking network trains from the command line and the run record says so. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadAddon } from '../../lib/native/addon';
import { cli } from './run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-neuron-cli-'));

describe('CLI --neuron', function () {
  this.timeout(60_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // The child processes run with the default engine: native when the addon loads (lib/neurons/engine.ts routes every
  // rule that trains a spiking network there).
  const nativeDefault = 'addon' in loadAddon();
  // `train` on a short delayed XOR with `args`; its run record.
  const trainRecord = async (file: string, args: string[]): Promise<Record<string, any>> => {
    const out = path.join(tmp, file);
    const r = await cli(['train', '--task', 'delayed-xor', '--delay', '10', '--cue', '5', '--n-rec', '12', '--eval-every', '1', ...args, '--quiet', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, any>;
  };

  it('train --neuron alif --rule eprop --online runs on the default engine (native runs it) and records the neuron', async () => {
    const j = await trainRecord('alif.json', ['--iterations', '3', '--rule', 'eprop', '--online', '--neuron', 'alif']);
    assert.equal(j.config.network.neuron.model, 'alif');
    assert.equal(j.config.network.neuron.beta, 0.07);
    const engine = nativeDefault ? 'native' : 'reference';
    assert.equal(j.metadata.engine, engine);
    assert.equal(j.config.engine, engine);
    assert.equal(j.curve.length, 4);
  });

  it('train --neuron lif --rule modprop --online (a LIF-only online form) runs on the default engine too', async () => {
    const j = await trainRecord('lif.json', ['--iterations', '2', '--rule', 'modprop', '--online', '--neuron', 'lif']);
    assert.equal(j.metadata.engine, nativeDefault ? 'native' : 'reference');
    assert.equal(j.config.network.neuron.model, 'lif');
  });

  it('train --neuron lif --backend reference records the reference engine and one thread', async () => {
    const j = await trainRecord('lif-ref.json', ['--iterations', '2', '--rule', 'bptt', '--neuron', 'lif', '--backend', 'reference']);
    // The run's config and the summary line name the engine that ran it, not the default native one.
    assert.equal(j.metadata.engine, 'reference');
    assert.equal(j.config.engine, 'reference');
    assert.equal(j.config.threads, 1);
  });

  it('compare --neuron lif names the engine that ran its rules in its table', async () => {
    const table = path.join(tmp, 'lif.md');
    const r = await cli(['compare', '--task', 'delayed-xor', '--delay', '10', '--cue', '5', '--n-rec', '12', '--iterations', '2',
      '--eval-every', '1', '--rules', 'eprop', '--seeds', '1', '--neuron', 'lif', '--quiet', '--table', table]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(fs.readFileSync(table, 'utf8'), nativeDefault ? /native engine/ : /reference engine/);
  });

  it('an unknown neuron is a usage error naming the choices', async () => {
    const r = await cli(['train', '--task', 'delayed-xor', '--neuron', 'hh', '--iterations', '1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--neuron <model>' argument 'hh' is invalid\. Allowed choices are rate, lif, alif/);
  });
});
