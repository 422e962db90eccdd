import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONTRACT, NEURON_IDS, RULE_IDS, contractMismatches } from '../../lib/contract';
import { NEURON_NAMES } from '../../lib/neurons/neuron';
import { RULES, RULE_NAMES } from '../../lib/rules';
import { loadAddon } from '../../lib/native/addon';
import { headerMismatches, xMacro } from './contractHeader';

const HEADER = fs.readFileSync(path.join(__dirname, '../../native/core/contract.h'), 'utf8');

describe('the TypeScript ↔ C++ contract', () => {
  it('native/core/contract.h lists every rule, option id and argument slot of lib/contract.ts and lib/rules.ts', () => {
    assert.deepEqual(headerMismatches(HEADER), []);
    assert.equal(xMacro(HEADER, 'MODPROP_RULES').length, RULE_NAMES.length);
    assert.ok(xMacro(HEADER, 'MODPROP_JOB_INTS').length >= 13);
  });

  it('fails for a header whose enum and TypeScript table disagree (perturbed copies)', () => {
    // An inserted job field: every later slot moves, which the binding would read at the wrong index.
    const inserted = HEADER.replace('X(kNTypes, "nTypes")', 'X(kNTypes, "nTypes") X(kExtra, "extra")');
    assert.notEqual(inserted, HEADER);
    const lines = headerMismatches(inserted);
    assert.ok(lines.includes('jobInts.rule: C++ 7, TypeScript 6'), lines.join('\n'));
    assert.ok(lines.includes('jobInts.extra: C++ 6, TypeScript undefined'), lines.join('\n'));
    // Two swapped rule ids, and a trait the registry does not have.
    const swapped = HEADER.replace('"mdgl", 4,', '"mdgl", 5,').replace('"modprop", 5,', '"modprop", 4,');
    assert.deepEqual(headerMismatches(swapped).filter((l) => l.startsWith('rules.')).sort(), ['rules.mdgl: C++ 5, TypeScript 4', 'rules.modprop: C++ 4, TypeScript 5']);
    const rtrlNative = HEADER.replace('X(Rtrl, "rtrl", 2, 1, 0, 0, 0)', 'X(Rtrl, "rtrl", 2, 1, 0, 1, 0)');
    assert.deepEqual(headerMismatches(rtrlNative), ['rules.rtrl.native: C++ true, TypeScript false']);
    // The neuron axis: swapped neuron ids, and a spiking constant inserted before the others.
    const neurons = HEADER.replace('X(Lif, "lif", 1) X(Alif, "alif", 2)', 'X(Lif, "lif", 2) X(Alif, "alif", 1)');
    assert.notEqual(neurons, HEADER);
    assert.deepEqual(headerMismatches(neurons).sort(), ['neurons.alif: C++ 1, TypeScript 2', 'neurons.lif: C++ 2, TypeScript 1']);
    const floats = HEADER.replace('X(kRho, "rho")', 'X(kTauA, "tauA") X(kRho, "rho")');
    assert.notEqual(floats, HEADER);
    assert.ok(headerMismatches(floats).includes('jobFloats.kappa: C++ 8, TypeScript 7'), headerMismatches(floats).join('\n'));
  });

  it('neuron ids cover the neuron models of lib/neurons, in their order', () => {
    assert.deepEqual(Object.keys(NEURON_IDS), [...NEURON_NAMES]);
    assert.deepEqual(Object.values(NEURON_IDS), NEURON_NAMES.map((_, i) => i));
  });

  it('rule ids are the registry ids, dense and unique', () => {
    const ids = RULE_NAMES.map((r) => RULES[r].id);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids.map((_, i) => i));
    for (const r of RULE_NAMES) assert.equal(RULE_IDS[r], RULES[r].id);
  });

  it('the compiled addon reports the same contract (when it loads)', function () {
    const loaded = loadAddon();
    if (!('addon' in loaded)) this.skip();
    assert.deepEqual(contractMismatches(loaded.addon.contract), []);
    assert.deepEqual(Object.keys(loaded.addon.contract.rules).sort(), Object.keys(CONTRACT.rules).sort());
  });
});
