/** `modprop taps`: ModProp's causal filter taps K_s (SPEC §4) of a fresh network: a table, JSON and a plot. */
import { Command } from 'commander';
import { filterTaps } from '../gradients';
import { Network } from '../network';
import { figureSvg } from '../plot';
import { UsageError, checkWritable, intArg, json, messageStream, numberArg, textTable, writeOutput } from './common';

interface TapsFlags {
  mu: number;
  length: number;
  nRec: number;
  tau?: number;
  seed: number;
  plot?: string;
  out?: string;
}

const ROWS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export function tapsCommand(): Command {
  return new Command('taps')
    .description("ModProp's filter taps K_s[a][c]: the weight of the credit released by type c, s steps later, on a synapse onto type a")
    .option('--mu <mu>', "μ, the constant standing in for relu'", numberArg('non-negative'), 0.25)
    .option('--length <s>', 'number of taps, K_1 … K_length', intArg(1, 1_000_000), 200)
    .option('--n-rec <n>', 'recurrent units', intArg(1, 16384), 120)
    .option('--tau <steps>', 'membrane time constant in steps (default: 100)', numberArg('positive'))
    .option('--seed <s>', 'seed of the network', intArg(0), 1)
    .option('--plot <file>', 'write an SVG of every K_s[a][c] against s')
    .option('--out <file>', "write the taps as JSON ('-': stdout)")
    .addHelpText('after', `
Types of the default network: 0 = inhibitory (I), 1 = excitatory (E). The filter is unstable (an error) when the
spectral radius of Φ is ≥ 1: lower --mu.

Examples:
  $ modprop taps
  $ modprop taps --mu 0.5 --length 1000 --plot taps.svg --out taps.json`)
    .action(async (f: TapsFlags) => {
      if (f.plot === '-' && f.out === '-') throw new UsageError('only one of --out and --plot can be - (stdout)');
      checkWritable([f.out, f.plot]);
      const net = Network.create({ nIn: 1, nRec: f.nRec, nOut: 1, seed: f.seed, ...(f.tau !== undefined ? { tau: f.tau } : {}) });
      const C = net.nTypes;
      const flat = filterTaps(net, { mu: f.mu, length: f.length });
      const names = C === 2 ? ['I', 'E'] : Array.from({ length: C }, (_, i) => String(i));
      const taps: number[][][] = [];
      for (let s = 0; s < f.length; s++) {
        taps.push(Array.from({ length: C }, (_, a) => Array.from(flat.subarray((s * C + a) * C, (s * C + a + 1) * C))));
      }
      const pairs: [number, number][] = [];
      for (let a = 0; a < C; a++) for (let c = 0; c < C; c++) pairs.push([a, c]);
      const label = ([a, c]: [number, number]): string => `K[${names[a]}←${names[c]}]`;
      const dataOnStdout = f.out === '-' || f.plot === '-';
      if (f.out !== undefined) {
        writeOutput(f.out, json({
          config: { mu: f.mu, length: f.length, nRec: f.nRec, seed: f.seed, tau: net.config.tau, nTypes: C, typeNames: C === 2 ? ['inhibitory', 'excitatory'] : names, alpha: net.alpha },
          note: 'taps[s-1][a][c] = K_s[a][c]: weight of the neuromodulator released by type c, s steps later, on a synapse whose postsynaptic unit has type a (SPEC §4)',
          taps,
        }));
      }
      if (f.plot !== undefined) {
        const series = pairs.map((p) => ({ name: label(p), points: taps.map((k, s) => ({ iteration: s + 1, mean: k[p[0]][p[1]] })) }));
        writeOutput(f.plot, await figureSvg({
          title: `ModProp filter taps, μ = ${f.mu}`,
          subtitle: `N = ${f.nRec} (types ${names.join(', ')}), τ = ${net.config.tau}, seed ${f.seed}; K[a←c]: credit released by type c onto synapses into type a`,
          xTitle: 's (steps after the presynaptic trace increment)',
          logX: true,
          panels: [{ title: 'K_s[a][c]', yTitle: 'tap', series }],
          width: 480, height: 280,
        }));
      }
      const say = messageStream(dataOnStdout);
      say.write(`ModProp filter taps K_s, μ = ${f.mu}, N = ${f.nRec}, seed ${f.seed}, α = ${net.alpha.toFixed(5)}\n\n`);
      const rows = ROWS.filter((s) => s <= f.length);
      if (!rows.includes(f.length)) rows.push(f.length);
      say.write(textTable(['s', ...pairs.map(label)], rows.map((s) => [String(s), ...pairs.map(([a, c]) => taps[s - 1][a][c].toExponential(3))])));
      const written = [f.out, f.plot].filter((x): x is string => x !== undefined && x !== '-');
      if (written.length) say.write(`\nwrote ${written.join(', ')}\n`);
    });
}
