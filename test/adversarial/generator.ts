/**
 * A seeded generator of malformed calls across the public API (issue 11). Each case starts from a valid call and
 * breaks one thing: a whole argument, a field, an array's type, length or contents, or a value at the edge of what
 * float32 and memory hold. A case knows which names a clean error may use (the broken argument or its parents) and
 * how to recognise a valid answer, so the runner can tell a clean refusal from a silent wrong answer.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as m from '../../lib/index';
import { Random } from '../../lib/random';

export interface Case {
  api: string;
  /** The argument broken, e.g. "batch.x"; a clean ModpropError names it or one of `names`. */
  arg: string;
  names: string[];
  run: () => unknown;
  /** Why the value returned is not a valid answer, or undefined when it is. */
  invalid: (value: unknown) => string | undefined;
}

const finiteArray = (a: unknown, length: number, name: string): string | undefined => {
  if (!(a instanceof Float32Array)) return `${name} is not a Float32Array`;
  if (a.length !== length) return `${name} has length ${a.length}, expected ${length}`;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return `${name}[${i}] = ${a[i]}`;
  return undefined;
};

type Params = m.Params;

/** Malformed values: wrong types, non-finite and extreme numbers, odd objects. */
function badValue(rng: Random): unknown {
  const detached = new Float32Array(4);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const pool: (() => unknown)[] = [
    () => undefined, () => null, () => NaN, () => Infinity, () => -Infinity, () => -1, () => 0, () => 0.5, () => 1.5,
    () => 2 ** 31, () => 2 ** 53, () => 1e308, () => -1e308, () => 3e38, () => -0, () => '', () => 'x', () => '3',
    () => true, () => [], () => [1, 2], () => ({}), () => () => 1, () => class {}, () => 10n, () => Symbol('s'),
    () => new Float32Array(0), () => new Float64Array(4), () => new Int32Array(4), () => detached,
    () => new Proxy(new Float32Array(4), {}), () => Object.create(Float32Array.prototype), () => new Date(0),
    () => Object.assign(Object.create(null), { a: 1 }), () => new Map(), () => -(2 ** 31), () => 1e-320,
  ];
  return pool[rng.int(pool.length)]();
}

/** An array of the right kind whose contents or length are wrong. */
function badArray(rng: Random, good: Float32Array | Int32Array): unknown {
  const k = rng.int(7);
  const copy = good.slice();
  if (k === 0) return copy.subarray(0, Math.max(0, copy.length - 1));
  if (k === 1) return Float32Array.from({ length: good.length + 1 }, () => 0.1);
  if (k === 2 && copy.length) { copy[rng.int(copy.length)] = NaN; return copy; }
  if (k === 3 && copy.length) { copy[rng.int(copy.length)] = copy instanceof Int32Array ? -5 : 3e38; return copy; }
  if (k === 4 && copy.length) { copy[rng.int(copy.length)] = copy instanceof Int32Array ? 99 : -Infinity; return copy; }
  if (k === 5) return Array.from(good);
  return badValue(rng);
}

export function makeCases(seed: number, count: number, dir: string): Case[] {
  const rng = new Random(seed, 7);
  const net = m.Network.create({ nIn: 2, nRec: 8, nOut: 2, seed: 1 });
  const task = m.tasks.delayedXor({ cueSteps: 2, delaySteps: 2 });
  const mseTask = m.tasks.patternGeneration({ steps: 6, inputs: 2 });
  const goodCkpt = path.join(dir, 'good.ckpt');
  const cases: Case[] = [];
  const pick = <T>(a: readonly T[]): T => a[rng.int(a.length)];
  const netCheck = (v: unknown): string | undefined => {
    if (!(v instanceof m.Network)) return 'not a Network';
    for (const k of ['win', 'wrec', 'wout', 'bout'] as const) {
      const why = finiteArray(v.params[k], v.params[k].length, `params.${k}`);
      if (why) return why;
    }
    return undefined;
  };
  const gradCheck = (v: unknown): string | undefined => {
    const g = v as m.GradientResult;
    if (!g || typeof g.loss !== 'number' || !Number.isFinite(g.loss)) return `loss ${g?.loss}`;
    for (const k of ['win', 'wrec', 'wout', 'bout'] as const) {
      const why = finiteArray(g.grads[k], net.params[k].length, `grads.${k}`);
      if (why) return why;
    }
    return undefined;
  };

  /** A valid batch and a copy with one field broken. */
  const batchCase = (): { batch: Record<string, unknown>; arg: string } => {
    const b = { ...task.sample(3, rng.int(1000)) } as Record<string, unknown>;
    const field = pick(['x', 'labels', 'batchSize', 'steps', 'targets', 'extra', 'whole', 'none']);
    if (field === 'whole') return { batch: badValue(rng) as Record<string, unknown>, arg: 'batch' };
    if (field === 'none') return { batch: b, arg: 'nothing' };
    if (field === 'x' || field === 'labels') b[field] = badArray(rng, b[field] as Float32Array);
    else b[field] = badValue(rng);
    return { batch: b, arg: `batch.${field}` };
  };
  const ruleCase = (): { rule: Record<string, unknown>; arg: string } => {
    const r: Record<string, unknown> = { ...pick([{ rule: 'bptt' }, { rule: 'eprop' }, { rule: 'modprop', mu: 0.25 }, { rule: 'mdgl' }, { rule: 'tbptt', window: 3 }, { rule: 'eprop', online: true }]) };
    const field = pick(['rule', 'mu', 'feedback', 'window', 'online', 'learningSignal', 'extra', 'whole', 'none']);
    if (field === 'whole') return { rule: badValue(rng) as Record<string, unknown>, arg: 'rule' };
    if (field !== 'none') r[field] = field === 'mu' && rng.uniform() < 0.5 ? pick([1e300, 5000, -0.1, 1e-300]) : badValue(rng);
    return { rule: r, arg: field === 'none' ? 'nothing' : `rule.${field}` };
  };
  const networkVariant = (): { n: unknown; arg: string } => {
    const k = rng.int(5);
    if (k === 0) return { n: badValue(rng), arg: 'net' };
    if (k === 1) {
      const c = net.clone();
      const key = pick(['win', 'wrec', 'wout', 'bout'] as const);
      c.params[key][rng.int(c.params[key].length)] = pick([NaN, Infinity, 3e38, -3e38]);
      return { n: c, arg: `net.params.${key}` };
    }
    if (k === 2) {
      const c = net.clone();
      (c.params as unknown as Record<string, unknown>)[pick(['win', 'wrec', 'wout', 'bout'])] = badValue(rng);
      return { n: c, arg: 'net.params' };
    }
    return { n: net, arg: 'nothing' };
  };

  const makers: (() => Case)[] = [
    () => {
      const config: Record<string, unknown> = { nIn: 2, nRec: 6, nOut: 2, seed: 1 };
      const field = pick(['nIn', 'nRec', 'nOut', 'tau', 'dt', 'threshold', 'dale', 'excitatoryFraction', 'seed', 'cellTypes', 'typeSigns', 'extra', 'whole']);
      if (field === 'cellTypes' && rng.uniform() < 0.5) { config.cellTypes = [0, 1, 0, 1, 0, 7]; config.typeSigns = [1, -1]; } else if (field !== 'whole') config[field] = badValue(rng);
      return { api: 'Network.create', arg: `config.${field}`, names: ['config'], run: () => m.Network.create((field === 'whole' ? badValue(rng) : config) as m.NetworkConfig), invalid: netCheck };
    },
    () => {
      const p: Record<string, unknown> = { ...net.clone().params };
      const field = pick(['win', 'wrec', 'wout', 'bout', 'extra', 'whole', 'diagonal', 'sign']);
      if (field === 'diagonal') { const w = (p.wrec as Float32Array).slice(); w[0] = 0.5; p.wrec = w; } else if (field === 'sign') { const w = (p.wout as Float32Array).slice(); w[0] = -w[0] || -1; w[w.length - 1] = -w[w.length - 1] || 1; p.wout = w; } else if (field !== 'whole') p[field] = field === 'extra' ? badValue(rng) : badArray(rng, p[field] as Float32Array);
      const params = field === 'whole' ? badValue(rng) : p;
      return { api: 'Network.fromParams', arg: `params.${field}`, names: ['params'], run: () => m.Network.fromParams({ nIn: 2, nRec: 8, nOut: 2, seed: 1 }, params as Params), invalid: netCheck };
    },
    ...(['gradients', 'gradientsAsync'] as const).map((api) => (): Case => {
      const which = rng.int(4);
      let batch: unknown = task.sample(3, rng.int(1000));
      let rule: unknown = { rule: 'eprop' };
      let options: unknown = undefined;
      let n: unknown = net;
      let arg = 'nothing';
      if (which === 0) ({ batch, arg } = batchCase());
      else if (which === 1) ({ rule, arg } = ruleCase());
      else if (which === 2) {
        const field = pick(['loss', 'backend', 'signal', 'extra', 'whole']);
        options = field === 'whole' ? badValue(rng) : { [field]: badValue(rng) };
        arg = `options.${field === 'whole' ? '' : field}`.replace(/\.$/, '');
      } else ({ n, arg } = networkVariant());
      const names = [arg.split('.')[0], arg, 'the result of gradients'];
      return { api, arg, names, run: () => (m[api] as (...a: unknown[]) => unknown)(n, batch, rule, options), invalid: gradCheck };
    }),
    () => {
      const { batch, arg } = rng.uniform() < 0.8 ? batchCase() : { batch: { x: new Float32Array(2 * 4 * 2).fill(pick([3e38, -3e38, 1e30])), batchSize: 2, steps: 4 }, arg: 'batch.x (extreme)' };
      const engine = pick(['native', 'reference', undefined]);
      return {
        api: 'net.forward', arg, names: ['batch', 'the result of forward'], run: () => net.forward(batch as unknown as m.Batch, engine ? { backend: engine as 'native' } : undefined),
        invalid: (v) => {
          const r = v as m.ForwardResult;
          const b = batch as unknown as m.Batch;
          return finiteArray(r.v, b.batchSize * b.steps * 8, 'v') ?? finiteArray(r.y, b.batchSize * b.steps * 2, 'y');
        },
      };
    },
    () => {
      const k = rng.int(4);
      const rules: unknown[] = [{ rule: 'eprop' }, { rule: 'modprop' }, { rule: 'mdgl' }];
      let arg = 'rules';
      let arr: unknown = rules;
      if (k === 0) arr = badValue(rng);
      else if (k === 1) { delete rules[1]; arg = 'rules[1]'; } // a hole
      else if (k === 2) { rules[2] = ruleCase().rule; arg = 'rules[2]'; } else { rules.length = 0; }
      const batch = task.sample(2, 1);
      return {
        api: 'alignment', arg, names: ['rules'], run: () => m.alignment(net, batch, arr as m.RuleConfig[]),
        invalid: (v) => {
          const a = v as m.Alignment[];
          if (!Array.isArray(a) || a.length !== (arr as unknown[]).length) return 'not one answer per rule';
          for (let i = 0; i < a.length; i++) if (!(i in a)) return `hole at ${i}`;
          return undefined;
        },
      };
    },
    () => {
      const field = pick(['mu', 'length', 'extra', 'whole']);
      const o: Record<string, unknown> = { mu: 0.25, length: 5 };
      if (field === 'mu' && rng.uniform() < 0.5) o.mu = pick([1e300, 1e30, 40, 1e-300]); else if (field !== 'whole') o[field] = badValue(rng);
      const options = field === 'whole' ? badValue(rng) : o;
      return { api: 'filterTaps', arg: `options.${field}`, names: ['options'], run: () => m.filterTaps(net, options as { length: number }), invalid: (v) => finiteArray(v, 5 * net.nTypes * net.nTypes, 'taps') };
    },
    () => {
      const field = pick(['lr', 'l2', 'iterations', 'batchSize', 'evalEvery', 'evalBatchSize', 'seed', 'optimizer', 'lrDecay', 'lrDecayEvery', 'checkpoint', 'checkpointEvery', 'onProgress', 'signal', 'resume', 'backend', 'rule', 'mu', 'extra', 'task']);
      const o: Record<string, unknown> = { rule: 'eprop', iterations: 2, batchSize: 2, evalEvery: 1 };
      let t: unknown = rng.uniform() < 0.5 ? task : { ...mseTask, nIn: 2 };
      const n = t === task ? net.clone() : m.Network.create({ nIn: 2, nRec: 6, nOut: 1, seed: 2 });
      if (field === 'task') {
        const k = rng.int(4);
        t = k === 0 ? badValue(rng) : k === 1 ? { ...task, loss: badValue(rng) } : k === 2 ? { ...task, sample: () => badValue(rng) } : { ...task, sample: (b: number, s: number) => ({ ...task.sample(b, s), labels: badArray(rng, new Int32Array(b)) }) };
      } else if (field === 'lr' || field === 'l2') o[field] = rng.uniform() < 0.5 ? pick([1e308, 1e38, 1e10]) : badValue(rng);
      else if (field === 'checkpoint' || field === 'resume') o[field] = pick([path.join(dir, 'null-link'), path.join(dir, 'fifo'), dir, path.join(dir, 'no', 'dir.ckpt'), path.join(dir, 'bad.ckpt'), badValue(rng)]);
      else o[field] = badValue(rng);
      return {
        api: 'train', arg: field === 'task' ? 'task' : `options.${field}`, names: field === 'task' ? ['task'] : ['options', typeof o[field] === 'string' ? (o[field] as string) : ''].filter(Boolean),
        run: () => m.train(n, t as m.Task, o as unknown as m.TrainCallOptions),
        invalid: (v) => {
          const r = v as m.TrainResult;
          for (const p of r.curve) for (const [k, x] of Object.entries(p)) if (!Number.isFinite(x)) return `curve ${k} = ${x}`;
          return r.curve.length > 0 ? undefined : 'empty curve';
        },
      };
    },
    () => {
      const which = pick(['delayedXor', 'patternGeneration', 'sample'] as const);
      if (which === 'sample') {
        const k = rng.int(2);
        const a = k === 0 ? [badValue(rng), 1] : [2, badValue(rng)];
        return { api: 'task.sample', arg: k === 0 ? 'batchSize' : 'seed', names: [k === 0 ? 'batchSize' : 'seed'], run: () => (task.sample as (...x: unknown[]) => m.Batch)(...a), invalid: (v) => finiteArray((v as m.Batch).x, (v as m.Batch).batchSize * task.steps * 2, 'x') };
      }
      const keys = which === 'delayedXor' ? ['cueSteps', 'delaySteps', 'noise', 'extra'] : ['steps', 'seed', 'inputs', 'rate', 'extra'];
      const field = pick([...keys, 'whole']);
      const o = field === 'whole' ? badValue(rng) : { ...(which === 'delayedXor' ? { cueSteps: 2, delaySteps: 2 } : { steps: 5 }), [field]: field === 'noise' && rng.uniform() < 0.5 ? pick([1e308, 1e30, 1e6]) : badValue(rng) };
      return {
        api: `tasks.${which}`, arg: `options.${field}`, names: ['options'],
        run: () => { const t = (m.tasks[which] as (x: unknown) => m.Task)(o); return t.steps * 2 * 2 <= 1e6 ? t.sample(2, 1) : { x: new Float32Array(0), batchSize: 0, steps: 0 }; },
        invalid: (v) => { const b = v as m.Batch; return finiteArray(b.x, b.x.length, 'x') ?? (b.targets ? finiteArray(b.targets, b.targets.length, 'targets') : undefined); },
      };
    },
    () => {
      const k = rng.int(3);
      if (k === 0) {
        const p = pick(['/dev/zero', '/dev/null', path.join(dir, 'fifo'), dir, path.join(dir, 'missing.ckpt'), path.join(dir, 'bad.ckpt'), badValue(rng)]);
        return { api: 'loadCheckpoint', arg: 'file', names: [typeof p === 'string' ? p : 'file', 'file'], run: () => m.loadCheckpoint(p as string), invalid: (v) => netCheck((v as m.Checkpoint).network) };
      }
      const cp = m.loadCheckpoint(goodCkpt) as unknown as Record<string, Record<string, unknown>>;
      const where = pick(['position', 'optimizer', 'network', 'file'] as const);
      let file: unknown = path.join(dir, `out-${rng.int(1e9)}.ckpt`);
      let arg = `checkpoint.${where}`;
      if (where === 'file') { file = pick([path.join(dir, 'null-link'), path.join(dir, 'fifo'), dir, path.join(dir, 'no', 'x.ckpt'), badValue(rng)]); arg = 'file'; } else if (where === 'network') (cp as Record<string, unknown>).network = badValue(rng);
      else { const keys = Object.keys(cp[where]); const key = pick(keys); cp[where][key] = badValue(rng); arg = `checkpoint.${where}.${key}`; }
      return {
        api: 'saveCheckpoint', arg, names: [arg, 'checkpoint', 'file', typeof file === 'string' ? file : 'file'],
        run: () => { m.saveCheckpoint(file as string, cp as unknown as m.Checkpoint); const back = m.loadCheckpoint(file as string); fs.rmSync(file as string); return back; },
        invalid: (v) => netCheck((v as m.Checkpoint).network),
      };
    },
  ];
  for (let i = 0; i < count; i++) cases.push(makers[rng.int(makers.length)]());
  return cases;
}

/** Files the checkpoint cases read: a good checkpoint and a damaged one. */
export async function prepareFiles(dir: string): Promise<void> {
  const net = m.Network.create({ nIn: 2, nRec: 8, nOut: 2, seed: 1 });
  await m.train(net, m.tasks.delayedXor({ cueSteps: 2, delaySteps: 2 }), { rule: 'eprop', iterations: 2, batchSize: 2, checkpoint: path.join(dir, 'good.ckpt') });
  const text = fs.readFileSync(path.join(dir, 'good.ckpt'), 'utf8');
  fs.writeFileSync(path.join(dir, 'bad.ckpt'), text.slice(0, text.length >> 1));
  // Special targets that are safe to aim at: a link to /dev/null (a bug would replace the link, not the device).
  fs.symlinkSync('/dev/null', path.join(dir, 'null-link'));
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
}
