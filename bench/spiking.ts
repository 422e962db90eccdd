/**
 * Spiking cost beside rate cost on the reference engine (the only engine with spiking neurons so far): ms per
 * gradient call for each neuron model and rule, and the ratio to the rate unit's. Not part of `npm run bench` yet.
 *   flock /work/bench.lock node --require tsx/cjs bench/spiking.ts [--nRec 60] [--steps 200] [--batch 8]
 */
import { parseArgs } from 'node:util';
import { Network, gradients, tasks, type RuleConfig } from '../lib/index';

const { values } = parseArgs({ options: { nRec: { type: 'string', default: '60' }, steps: { type: 'string', default: '200' }, batch: { type: 'string', default: '8' }, reps: { type: 'string', default: '3' } } });
const nRec = Number(values.nRec);
const steps = Number(values.steps);
const reps = Number(values.reps);
const task = tasks.delayedXor({ cueSteps: Math.floor(steps / 4), delaySteps: steps - 2 * Math.floor(steps / 4) });
const batch = task.sample(Number(values.batch), 1);
const RULES: RuleConfig[] = [{ rule: 'bptt' }, { rule: 'eprop', online: true }, { rule: 'eprop' }, { rule: 'mdgl' }, { rule: 'modprop' }];

function msPerCall(net: Network, rule: RuleConfig): number {
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    gradients(net, batch, rule, { backend: 'reference' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

console.log(`reference engine, N = ${nRec}, T = ${batch.steps}, B = ${batch.batchSize}; median of ${reps} calls\n`);
console.log('| rule | rate ms | lif ms (× rate) | alif ms (× rate) |');
console.log('|---|---|---|---|');
for (const rule of RULES) {
  const row = (['rate', 'lif', 'alif'] as const).map((model) => msPerCall(Network.create({ nIn: 2, nRec, nOut: 2, seed: 1, neuron: { model } }), rule));
  console.log(`| ${JSON.stringify(rule)} | ${row[0].toFixed(0)} | ${row[1].toFixed(0)} (${(row[1] / row[0]).toFixed(1)}×) | ${row[2].toFixed(0)} (${(row[2] / row[0]).toFixed(1)}×) |`);
}
