/**
 * Child process of test/adversarial/npz.test.ts: prints one JSON line per case ("start" before it, the outcome after),
 * then {"done": …} with the counts. Outcomes: clean (ModpropError naming the file), same (loaded, bit-identical to the
 * saved network), different (loaded as another network: a silent wrong answer), other (any other error).
 */
process.env.MODPROP_BACKEND = 'reference';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { unzipSync, zipSync } from 'fflate';
import { ModpropError, Network } from '../../lib/index';
import { encodeNpy, encodeNpyString } from '../../lib/npy';
import { Random } from '../../lib/random';

const cases = Number(process.argv[2]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-npz-adv-'));
// Lines go to a regular file, not stdout: a pipe can refuse a write with EAGAIN under load.
const log = fs.openSync(process.argv[3], 'w');
const say = (o: object): void => void fs.writeSync(log, `${JSON.stringify(o)}\n`);
const counts: Record<string, number> = {};

const net = Network.create({ nIn: 2, nRec: 8, nOut: 2, seed: 3, subtypes: 2 });
const original = path.join(dir, 'net.npz');
net.save(original);
const good = new Uint8Array(fs.readFileSync(original));
const entries = unzipSync(good);
const target = path.join(dir, 'case.npz');

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
function sameAsSaved(b: Network): boolean {
  for (const k of ['win', 'wrec', 'wout', 'bout'] as const) if (!bytesOf(b.params[k]).equals(bytesOf(net.params[k]))) return false;
  return JSON.stringify({ ...b.config, types: Array.from(b.types) }) === JSON.stringify({ ...net.config, types: Array.from(net.types) });
}

/** `expect`: 'refuse' (a crafted lie: loading it at all is wrong), 'accept' (a valid file) or 'either' (corruption). */
function run(label: string, bytes: Uint8Array, expect: 'refuse' | 'accept' | 'either' = 'either'): void {
  say({ start: label });
  fs.writeFileSync(target, bytes);
  let outcome: string;
  let detail: string | undefined;
  try {
    const loaded = Network.load(target);
    outcome = expect === 'refuse' ? 'loaded-a-lie' : sameAsSaved(loaded) ? 'same' : 'different';
  } catch (err) {
    const e = err as Error;
    outcome = e instanceof ModpropError && e.message.includes(target) ? 'clean' : 'other';
    if (outcome === 'other') detail = `${e.name}: ${e.message.slice(0, 200)}`;
    if (outcome === 'clean' && expect === 'accept') [outcome, detail] = ['refused-a-valid-file', e.message.slice(0, 200)];
  }
  counts[outcome] = (counts[outcome] ?? 0) + 1;
  say({ case: label, outcome, ...(detail ? { detail } : {}) });
}

// 1. Byte-level corruption of the saved file.
const rng = new Random(11);
for (let i = 0; i < cases; i++) {
  const b = Buffer.from(good);
  const at = rng.int(b.length);
  const kind = rng.int(5);
  let out: Uint8Array = b;
  if (kind === 0) b[at] ^= 1 << rng.int(8);
  else if (kind === 1) b[at] = rng.int(256);
  else if (kind === 2) out = b.subarray(0, at);
  else if (kind === 3) out = Buffer.concat([b.subarray(0, at), Buffer.from([rng.int(256)]), b.subarray(at)]);
  else out = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(16))]);
  run(`bytes ${['flip', 'set', 'truncate', 'insert', 'remove'][kind]} @${at}`, out);
}

// 2. Archives rebuilt with lying entries (every CRC right, so only the loader's own checks can refuse them).
const npyHeader = (dict: string, data: Uint8Array): Uint8Array => {
  const text = dict.padEnd(118, ' ') + '\n';
  const head = Buffer.alloc(10 + text.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(text.length, 8);
  head.write(text, 10, 'latin1');
  return Buffer.concat([head, data]);
};
const wrec = net.params.wrec;
const withEntries = (over: Record<string, Uint8Array | undefined>, level: 0 | 9 = 0): Uint8Array => {
  const all: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries({ ...entries, ...over })) if (v !== undefined) all[k] = v;
  return zipSync(all, { level });
};
const modified = (f: (a: Float32Array) => void): Uint8Array => { const a = wrec.slice(); f(a); return encodeNpy(a, [8, 8]); };
const configWith = (patch: Record<string, unknown>): Uint8Array => encodeNpyString(JSON.stringify({ ...readConfig(), ...patch }));
function readConfig(): Record<string, unknown> {
  const raw = Buffer.from(entries['config.npy']);
  const start = 10 + raw.readUInt16LE(8);
  let s = '';
  for (let i = start; i + 4 <= raw.length; i += 4) { const c = raw.readUInt32LE(i); if (c) s += String.fromCodePoint(c); }
  return JSON.parse(s);
}

const crafted: [string, Uint8Array, ('accept' | 'either')?][] = [
  ['deflated entries (valid)', withEntries({}, 9), 'accept'],
  ['entries in another order (valid)', zipSync(Object.fromEntries(Object.entries(entries).reverse()), { level: 0 }), 'accept'],
  ['wrec as <f8', withEntries({ 'wrec.npy': npyHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (8, 8), }", new Uint8Array(512)) })],
  ['wrec big-endian', withEntries({ 'wrec.npy': npyHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (8, 8), }", bytesOf(wrec)) })],
  ['wrec Fortran order', withEntries({ 'wrec.npy': npyHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (8, 8), }", bytesOf(wrec)) })],
  ['wrec shape (64,)', withEntries({ 'wrec.npy': encodeNpy(wrec.slice(), [64]) })],
  ['wrec shape (4, 16)', withEntries({ 'wrec.npy': encodeNpy(wrec.slice(), [4, 16]) })],
  ['wrec claims 2^40 elements', withEntries({ 'wrec.npy': npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }", bytesOf(wrec)) })],
  ['wrec data short', withEntries({ 'wrec.npy': npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (8, 8), }", bytesOf(wrec).subarray(0, 100)) })],
  ['wrec data long', withEntries({ 'wrec.npy': npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (8, 8), }", Buffer.concat([bytesOf(wrec), Buffer.alloc(4)])) })],
  ['wrec header not a dict', withEntries({ 'wrec.npy': npyHeader("__import__('os').system('true')", bytesOf(wrec)) })],
  ['wrec NaN', withEntries({ 'wrec.npy': modified((a) => { a[1] = NaN; }) })],
  ['wrec Infinity', withEntries({ 'wrec.npy': modified((a) => { a[1] = Infinity; }) })],
  ['wrec 3e38 (finite, but overflows a step)', withEntries({ 'wrec.npy': modified((a) => { a[1] = 3e38; }) }), 'either'],
  ['wrec diagonal non-zero', withEntries({ 'wrec.npy': modified((a) => { a[9] = 0.5; }) })],
  ['wrec breaks Dale', withEntries({ 'wrec.npy': modified((a) => { for (let k = 0; k < 64; k++) if (k % 9) a[k] = -Math.abs(a[k]) - 0.1; }) })],
  ['win NaN', withEntries({ 'win.npy': encodeNpy(Float32Array.from(net.params.win, (v, k) => (k === 0 ? NaN : v)), [2, 8]) })],
  ['types out of range', withEntries({ 'types.npy': encodeNpy(Int32Array.from(net.types, (v, k) => (k === 0 ? 99 : v)), [8]) })],
  ['types negative', withEntries({ 'types.npy': encodeNpy(Int32Array.from(net.types, (v, k) => (k === 0 ? -1 : v)), [8]) })],
  ['types as <f4', withEntries({ 'types.npy': encodeNpy(Float32Array.from(net.types), [8]) })],
  ['type_signs zero', withEntries({ 'type_signs.npy': encodeNpy(new Int32Array([0, 0, 0, 0]), [4]) })],
  ['missing wout', withEntries({ 'wout.npy': undefined })],
  ['missing config', withEntries({ 'config.npy': undefined })],
  ['an extra entry', withEntries({ 'evil.npy': new Uint8Array(10) })],
  ['a path-traversal entry', withEntries({ '../../evil.npy': new Uint8Array(10) })],
  ['config nRec 9 (arrays are 8)', withEntries({ 'config.npy': configWith({ nRec: 9 }) })],
  ['config nRec 1e9', withEntries({ 'config.npy': configWith({ nRec: 1e9 }) })],
  ['config nIn "2"', withEntries({ 'config.npy': configWith({ nIn: '2' }) })],
  ['config tau -1', withEntries({ 'config.npy': configWith({ tau: -1 }) })],
  ['config unknown key', withEntries({ 'config.npy': configWith({ backdoor: 1 }) })],
  ['config __proto__ key', withEntries({ 'config.npy': encodeNpyString('{"__proto__": {"polluted": 1}, ' + JSON.stringify(readConfig()).slice(1)) })],
  ['config not JSON', withEntries({ 'config.npy': encodeNpyString('{nIn: 2') })],
  ['config a JSON array', withEntries({ 'config.npy': encodeNpyString('[1, 2]') })],
  ['config deep nesting', withEntries({ 'config.npy': encodeNpyString('['.repeat(100000) + ']'.repeat(100000)) })],
  ['config as <f4', withEntries({ 'config.npy': encodeNpy(new Float32Array(4), [4]) })],
  ['an empty file', new Uint8Array(0)],
  ['an empty zip', zipSync({})],
  ['not a zip', Buffer.from('PK\u0003\u0004 but nothing else')],
];

// A deflate bomb: 256 MiB of zeros whose local and central headers claim 256 bytes, as wrec.npy.
{
  const zeros = deflateSync(Buffer.alloc(256 * 2 ** 20), { level: 9 });
  const zip = Buffer.from(zipSync({ ...entries, 'wrec.npy': new Uint8Array(zeros.length) }, { level: 0 }));
  // Put the deflate stream where the stored bytes are, mark the entry deflated and understate its size. The CRC is
  // then wrong as well, which is one more lie the loader has to survive.
  const name = Buffer.from('wrec.npy');
  for (let at = 0; at + 4 <= zip.length; at++) {
    const sig = zip.readUInt32LE(at);
    if ((sig === 0x04034b50 || sig === 0x02014b50) && zip.subarray(at + (sig === 0x04034b50 ? 30 : 46)).subarray(0, name.length).equals(name)) {
      const base = sig === 0x04034b50 ? at + 8 : at + 10;
      zip.writeUInt16LE(8, base);
      zip.writeUInt32LE(256, base + 14);
      if (sig === 0x04034b50) Buffer.from(zeros).copy(zip, at + 30 + name.length + zip.readUInt16LE(at + 28));
    }
  }
  crafted.push(['a deflate bomb understating its size', zip]);
}

for (const [label, bytes, expect] of crafted) run(label, bytes, expect ?? 'refuse');
say({ done: true, total: cases + crafted.length, crafted: crafted.length, counts });
fs.rmSync(dir, { recursive: true, force: true });
