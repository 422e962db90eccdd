/**
 * Spiking cost beside rate cost, on both engines: ms per gradient call (median of `reps` after one untimed call) for
 * each neuron model and rule, the native engine's cost relative to the reference engine's, and each spiking model's
 * relative to the rate unit's on the same engine. Delayed XOR at N = 60, T = 200, B = 8 by default (the reference
 * engine is too slow for the paper's size here); the native engine runs with `--threads` threads. Not part of
 * `npm run bench`: the training-iteration phase there has the spiking rows at the paper's size.
 *   flock /work/bench.lock nice -n 19 node --require tsx/cjs bench/spiking.ts [--nRec 60] [--steps 200] [--batch 8] [--reps 3] [--threads 1]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Network, gradients, tasks, type RuleConfig } from '../lib/index';
import { engineNameFor } from '../lib/neurons/engine';
import * as validate from '../lib/validate';

const { values } = parseArgs({
  options: {
    nRec: { type: 'string', default: '60' }, steps: { type: 'string', default: '200' }, batch: { type: 'string', default: '8' },
    reps: { type: 'string', default: '3' }, threads: { type: 'string', default: '1' },
  },
});
const nRec = Number(values.nRec);
const steps = Number(values.steps);
const reps = Number(values.reps);
const threads = Number(values.threads);
const task = tasks.delayedXor({ cueSteps: Math.floor(steps / 4), delaySteps: steps - 2 * Math.floor(steps / 4) });
const batch = task.sample(Number(values.batch), 1);
const RULES: RuleConfig[] = [{ rule: 'bptt' }, { rule: 'eprop', online: true }, { rule: 'eprop' }, { rule: 'mdgl' }, { rule: 'modprop' }, { rule: 'modprop', online: true }];
const MODELS = ['rate', 'lif', 'alif'] as const;

function msPerCall(net: Network, rule: RuleConfig, backend: 'native' | 'reference'): number {
  const call = (): unknown => gradients(net, batch, rule, { backend, ...(backend === 'native' ? { threads } : {}) });
  call();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    call();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const f = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
console.log(`delayed XOR, N = ${nRec}, T = ${batch.steps}, B = ${batch.batchSize}; native ${threads} thread(s); median of ${reps} calls\n`);
console.log('| rule | neuron | native ms | reference ms | native ÷ reference | native: ÷ rate | reference: ÷ rate |');
console.log('|---|---|---|---|---|---|---|');
for (const rule of RULES) {
  const rate = { native: 0, reference: 0 };
  for (const model of MODELS) {
    const net = Network.create({ nIn: task.nIn, nRec, nOut: task.nOut, seed: 1, neuron: { model } });
    if (model === 'alif' && rule.rule === 'modprop' && rule.online) continue;  // no online ModProp for alif (docs/neurons.md)
    const runsNatively = engineNameFor(net.config.neuron, 'native', [validate.rule(rule)]) === 'native';
    const nat = runsNatively ? msPerCall(net, rule, 'native') : NaN;
    const ref = msPerCall(net, rule, 'reference');
    if (model === 'rate') Object.assign(rate, { native: nat, reference: ref });
    const ratio = (a: number, b: number): string => (Number.isNaN(a) ? '—' : `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×`);
    console.log(`| ${JSON.stringify(rule)} | ${model} | ${Number.isNaN(nat) ? '—' : f(nat)} | ${f(ref)} | ${ratio(nat, ref)} | ${model === 'rate' ? '1×' : ratio(nat, rate.native)} | ${model === 'rate' ? '1×' : ratio(ref, rate.reference)} |`);
  }
}
