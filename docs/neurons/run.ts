/**
 * Short training runs of spiking LIF/ALIF networks with every rule on delayed XOR and pattern generation, on the
 * native engine (every rule here runs natively on spiking neurons; `--reference` runs the TypeScript reference
 * instead, the same equations in float64). Writes docs/neurons/curves.json, one SVG per task, and prints the table of
 * docs/neurons.md.
 *   node --require tsx/cjs docs/neurons/run.ts [--reference]          (a minute or two natively)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Network, tasks, train, type RuleConfig, type Task, type TrainResult } from '../../lib/index';
import { figureSvg, type Series } from '../../lib/plot';

const RULES: [string, RuleConfig][] = [
  ['bptt', { rule: 'bptt' }], ['tbptt W=20', { rule: 'tbptt', window: 20 }], ['eprop', { rule: 'eprop' }],
  ['eprop online', { rule: 'eprop', online: true }], ['mdgl', { rule: 'mdgl' }], ['modprop', { rule: 'modprop', mu: 0.25 }],
  ['modprop cell', { rule: 'modprop', mu: 0.25, feedback: 'cell' }], ['modprop online', { rule: 'modprop', mu: 0.25, online: true }],
  ['rflo', { rule: 'rflo' }], ['rflo online', { rule: 'rflo', online: true }],
];
const ENGINE: 'native' | 'reference' = process.argv.includes('--reference') ? 'reference' : 'native';
/** ALIF has no online ModProp (lib/reference/spiking/modpropOnline.ts). */
const rulesFor = (neuron: string): [string, RuleConfig][] => RULES.filter(([, r]) => neuron === 'lif' || !(r.rule === 'modprop' && r.online));
const NEURONS = ['lif', 'alif'] as const;
const SEEDS = [1, 2, 3];
const TASKS: { name: string; task: Task; metric: 'accuracy' | 'nmse'; iterations: number; batchSize: number }[] = [
  { name: 'delayed XOR (cue 20, delay 60, T = 100)', task: tasks.delayedXor({ cueSteps: 20, delaySteps: 60 }), metric: 'accuracy', iterations: 200, batchSize: 16 },
  { name: 'pattern generation (T = 300)', task: tasks.patternGeneration({ steps: 300 }), metric: 'nmse', iterations: 400, batchSize: 2 },
];
const OUT = path.join(__dirname);

interface Run { task: string; neuron: string; rule: string; seed: number; stopped?: string; curve: { iteration: number; loss: number; metric: number }[] }

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main(): Promise<void> {
  const runs: Run[] = [];
  for (const t of TASKS) {
    for (const neuron of NEURONS) {
      for (const [label, rule] of rulesFor(neuron)) {
        for (const seed of SEEDS) {
          const net = Network.create({ nIn: t.task.nIn, nRec: 30, nOut: t.task.nOut, seed, neuron: { model: neuron } });
          let r: TrainResult;
          let stopped: string | undefined;
          try {
            r = await train(net, t.task, { ...rule, iterations: t.iterations, batchSize: t.batchSize, evalEvery: 20, lr: 5e-3, seed, backend: ENGINE, threads: 1 });
          } catch (err) {
            // e.g. ModProp's type filter turning unstable as Wrec grows: keep the curve up to there, and say so.
            const partial = (err as { result?: TrainResult }).result;
            if (!partial) throw err;
            r = partial;
            stopped = (err as Error).message;
          }
          runs.push({ task: t.name, neuron, rule: label, seed, stopped, curve: r.curve.map((c) => ({ iteration: c.iteration, loss: c.loss, metric: (c[t.metric] as number) })) });
        }
        const mine = runs.slice(-SEEDS.length);
        const last = mine.map((r) => r.curve[r.curve.length - 1]);
        const stops = mine.filter((r) => r.stopped).map((r) => `seed ${r.seed} at ${r.curve[r.curve.length - 1].iteration}`);
        console.log(`| ${t.name} | ${neuron} | ${label} | ${median(mine.map((r) => r.curve[0].metric)).toFixed(3)} | ${median(last.map((c) => c.metric)).toFixed(3)} | ${median(last.map((c) => c.loss)).toFixed(3)} | ${stops.join(', ')} |`);
      }
    }
  }
  fs.writeFileSync(path.join(OUT, 'curves.json'), JSON.stringify(runs) + '\n');
  for (const [i, t] of TASKS.entries()) {
    const panels = NEURONS.map((neuron) => ({
      title: `${neuron}: ${t.metric} (median of ${SEEDS.length} seeds)`, yTitle: t.metric,
      series: rulesFor(neuron).map(([label]): Series => {
        const mine = runs.filter((r) => r.task === t.name && r.neuron === neuron && r.rule === label);
        const longest = mine.reduce((a, b) => (b.curve.length > a.curve.length ? b : a));
        const points = longest.curve.map((c, k) => ({ iteration: c.iteration, mean: median(mine.filter((r) => r.curve.length > k).map((r) => r.curve[k].metric)) }));
        return { name: label, points };
      }),
    }));
    fs.writeFileSync(path.join(OUT, `${i === 0 ? 'delayed-xor' : 'pattern-generation'}.svg`), await figureSvg({ title: `Spiking networks (N = 30) on ${t.name}`, xTitle: 'iteration', panels }));
  }
}
void main();
