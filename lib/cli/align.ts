/** `modprop align`: cosine similarity of each rule's gradient with the exact (bptt) one, on one network and batch. */
import { Command, Option } from 'commander';
import { backend } from '../backend';
import { alignment } from '../gradients';
import { Network } from '../network';
import {
  RULES_HELP, addEngineOptions, addRuleOptions, addTaskOptions, applyEngineFlags, checkWritable, intArg, json, listArg, numberArg, messageStream, parseRuleSpec,
  taskFromFlags, textTable, writeOutput, type EngineFlags, type RuleFlags, type TaskFlags,
} from './common';

interface AlignFlags extends EngineFlags, RuleFlags, TaskFlags {
  rules: string[];
  nRec: number;
  batchSize: number;
  tau?: number;
  seed: number;
  out?: string;
}

const DEFAULT_RULES = 'eprop,mdgl,modprop,modprop:online,modprop:cell';

export function alignCommand(): Command {
  const cmd = new Command('align').description("cosine alignment of each rule's gradient with bptt's, per weight matrix, on a fresh network");
  addTaskOptions(cmd, 'delayed-xor');
  cmd.addOption(new Option('--rules <list>', RULES_HELP)
    .argParser(listArg).default(DEFAULT_RULES.split(','), DEFAULT_RULES));
  addRuleOptions(cmd, true);
  cmd
    .option('--n-rec <n>', 'recurrent units', intArg(1, 16384), 120)
    .option('--batch-size <n>', 'sequences in the batch', intArg(1), 32)
    .option('--tau <steps>', 'membrane time constant in steps (default: 100)', numberArg('positive'))
    .option('--seed <s>', 'seed of the network and of the batch', intArg(0), 1);
  addEngineOptions(cmd);
  return cmd
    .option('--out <file>', "write the table as JSON ('-': stdout)")
    .addHelpText('after', `
Cosine = 1 means the rule's update points exactly along the true gradient; "all" treats Win, Wrec and Wout as one vector.

Examples:
  $ modprop align
  $ modprop align --task delayed-xor --delay 100 --n-rec 60 --rules eprop,mdgl,modprop:mu=0.1,modprop:mu=0.5
  $ modprop align --rules tbptt:window=50,tbptt:window=200,modprop --out align.json`)
    .action((f: AlignFlags) => {
      checkWritable([f.out]);
      applyEngineFlags(f);
      const { task, options: taskOptions } = taskFromFlags(f, f.seed);
      const rules = f.rules.map((s) => parseRuleSpec(s, f).config);
      const net = Network.create({ nIn: task.nIn, nRec: f.nRec, nOut: task.nOut, seed: f.seed, ...(f.tau !== undefined ? { tau: f.tau } : {}) });
      const batch = task.sample(f.batchSize, f.seed);
      const started = Date.now();
      const rows = alignment(net, batch, rules, f.backend ? { backend: f.backend } : undefined);
      const elapsedMs = Date.now() - started;
      const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : '—');
      const data = {
        config: { task: task.name, taskOptions, steps: task.steps, nRec: f.nRec, batchSize: f.batchSize, seed: f.seed, engine: backend.name },
        alignment: rows.map((r) => ({ label: r.label, rule: r.rule, cosine: r.cosine })),
        elapsedMs,
      };
      const dataOnStdout = f.out === '-';
      if (f.out !== undefined) writeOutput(f.out, json(data));
      const say = messageStream(dataOnStdout);
      say.write(`alignment with bptt: ${task.name}, T = ${task.steps}, N = ${f.nRec}, batch ${f.batchSize}, seed ${f.seed} (${backend.name} engine, ${elapsedMs} ms)\n\n`);
      say.write(textTable(['rule', 'Win', 'Wrec', 'Wout', 'all'], rows.map((r) => [r.label, fmt(r.cosine.win), fmt(r.cosine.wrec), fmt(r.cosine.wout), fmt(r.cosine.all)])));
      if (f.out !== undefined && !dataOnStdout) say.write(`\nwrote ${f.out}\n`);
    });
}
