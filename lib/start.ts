/**
 * `npm start`: a real use of the library on its built-in default — the paper's delayed-XOR task and network size.
 * Builds a network, samples a batch and prints how well every rule's gradient aligns with the exact one (bptt).
 * (Training from `npm start` arrives with the training issue.)
 */
import { Network, alignment, backend, tasks, type RuleConfig } from './index';

const RULES: RuleConfig[] = [
  { rule: 'tbptt', window: 50 },
  { rule: 'modprop', mu: 0.25 },
  { rule: 'modprop', mu: 0.25, online: true },
  { rule: 'modprop', mu: 0.25, feedback: 'cell' },
  { rule: 'mdgl' },
  { rule: 'mdgl', feedback: 'cell' },
  { rule: 'eprop' },
  { rule: 'eprop', online: true },
];

function main(): void {
  const seed = 1;
  const task = tasks.delayedXor();
  const net = Network.create({ nIn: task.nIn, nRec: 120, nOut: task.nOut, seed });
  const batch = task.sample(16, seed);
  console.log(`modprop ${backend.name} engine${backend.reason ? ` (${backend.reason})` : ''}`);
  console.log(`delayed XOR: ${task.steps} steps, batch ${batch.batchSize}, ${net.nRec} units (E/I), seed ${seed}`);
  console.log('cosine similarity of each rule\'s gradient with the exact gradient (bptt):\n');
  const started = Date.now();
  const rows = alignment(net, batch, RULES);
  const pad = Math.max(...rows.map((r) => r.label.length));
  const fmt = (x: number): string => (Number.isNaN(x) ? '   n/a' : x.toFixed(4).padStart(7));
  console.log(`${'rule'.padEnd(pad)}     Win    Wrec    Wout     all`);
  for (const r of rows) {
    console.log(`${r.label.padEnd(pad)} ${fmt(r.cosine.win)} ${fmt(r.cosine.wrec)} ${fmt(r.cosine.wout)} ${fmt(r.cosine.all)}`);
  }
  console.log(`\n${rows.length + 1} gradients in ${((Date.now() - started) / 1000).toFixed(1)} s. rtrl equals bptt (see the tests); at this size it would need N³ memory.`);
}

main();
