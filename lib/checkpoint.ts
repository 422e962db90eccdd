/**
 * Checkpoints: a network, its optimizer state and the training position, in a versioned text format
 *
 *   line 1: {"format":"modprop-checkpoint","version":1,"sha256":"<hex of the payload>","bytes":<payload length>}
 *   line 2: the payload, JSON; float arrays as base64 of their little-endian bytes (exact round trip)
 *
 * written atomically (lib/safeFile.ts: a temporary file in the same folder, every byte counted, fsync, then rename),
 * so a crash or a full disk mid-write leaves the previous checkpoint intact. Loading refuses special and oversized
 * files, checks the header, the length and the checksum before it parses anything, and then the same schema a save
 * checks (lib/checkpointSchema.ts), so a re-signed payload cannot smuggle a bad position into `train`.
 */
import { createHash } from 'node:crypto';
import { checkOptimizerHead, checkPosition, complaintText, type Complain } from './checkpointSchema';
import { network as checkNetwork } from './gradients';
import { Network } from './network';
import { PARAM_KEYS, type OptimizerState, type ParamKey } from './optimizer';
import type { CurvePoint } from './trainTypes';
import { readRegularFile, writeFileAtomic } from './safeFile';
import type { NetworkConfig, Params } from './types';
import { ModpropError, allFinite, fail, networkConfig } from './validate';

export const CHECKPOINT_FORMAT = 'modprop-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** The longest string V8 builds (2^29 - 24 characters): a larger checkpoint could not be parsed anyway. */
export const MAX_CHECKPOINT_BYTES = 2 ** 29 - 24;

/** Where a run stands, as saved in (and restored from) a checkpoint. */
export interface TrainingPosition {
  /** Iterations completed. */
  iteration: number;
  /** Task name the run trains on. */
  task: string;
  curve: CurvePoint[];
  /** Training time before this point, so a resumed curve continues its elapsedMs. */
  elapsedMs: number;
  /** Sum of training losses since the last evaluation point and their count. */
  pendingLoss: number;
  pendingCount: number;
  /** The normalised options of the run (JSON data). */
  options: Record<string, unknown>;
}

export interface Checkpoint {
  network: Network;
  optimizer: OptimizerState;
  position: TrainingPosition;
}

function encode(a: Float32Array | Float64Array | Int32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decode<T extends Float32Array | Float64Array | Int32Array>(
  s: unknown, ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number, what: string, file: string,
): T {
  if (typeof s !== 'string') throw corrupt(file, `${what} is missing`);
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length !== length * ctor.BYTES_PER_ELEMENT) throw corrupt(file, `${what} has ${bytes.length} bytes, expected ${length * ctor.BYTES_PER_ELEMENT}`);
  const out = new ctor(new ArrayBuffer(bytes.length));
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function corrupt(file: string, why: string): ModpropError {
  return new ModpropError(`Expected a valid modprop checkpoint for ${file} but received a file where ${why}`);
}

/** The user-facing configuration that recreates `net` (types and signs spelled out). */
export function networkConfigOf(net: Network): NetworkConfig & { cellTypes: number[] } {
  const c = net.config;
  return {
    nIn: c.nIn, nRec: c.nRec, nOut: c.nOut, tau: c.tau, dt: c.dt, threshold: c.threshold, dale: c.dale,
    cellTypes: Array.from(c.types), typeSigns: c.typeSigns ? Array.from(c.typeSigns) : undefined, seed: c.seed,
    // The mask comes from (seed, connectivity); dense networks leave it out, so their checkpoints are as before.
    ...(c.connectivity < 1 ? { connectivity: c.connectivity } : {}),
    ...(c.neuron ? { neuron: { ...c.neuron } } : {}),
  };
}

/** Checks `cp` against the checkpoint schema, then writes it atomically; `name` is how errors refer to `file`. */
export function saveCheckpoint(file: string, cp: Checkpoint, name = 'file'): void {
  if (typeof file !== 'string' || file === '') fail('a file path', name, file);
  const saving: Complain = (field, expected, received) => fail(expected, `checkpoint.${field}`, received);
  if (typeof cp !== 'object' || cp === null) fail('a checkpoint { network, optimizer, position }', 'checkpoint', cp);
  checkNetwork(cp.network, 'checkpoint.network');
  checkOptimizerHead(cp.optimizer, 'optimizer', saving);
  checkPosition(cp.position, 'position', saving);
  const p = cp.network.params;
  const o = cp.optimizer;
  const moments = (r: Record<ParamKey, Float64Array> | undefined, which: string): Record<string, string> | null => {
    if (!r) return null;
    return Object.fromEntries(PARAM_KEYS.map((k) => {
      const at = `checkpoint.optimizer.${which}.${k}`;
      if (!(r[k] instanceof Float64Array) || r[k].length !== p[k].length) fail(`a Float64Array of length ${p[k].length}`, at, r[k]);
      allFinite(r[k], at);
      return [k, encode(r[k])];
    }));
  };
  const payload = JSON.stringify({
    network: networkConfigOf(cp.network),
    params: Object.fromEntries(PARAM_KEYS.map((k) => [k, encode(p[k])])),
    optimizer: { kind: o.kind, step: o.step, m: moments(o.m, 'm'), v: moments(o.v, 'v') },
    position: cp.position,
  });
  const header = JSON.stringify({
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION,
    sha256: createHash('sha256').update(payload).digest('hex'), bytes: Buffer.byteLength(payload),
  });
  writeFileAtomic(file, `${header}\n${payload}`, name, 'the previous checkpoint there is intact');
}

export function loadCheckpoint(file: string): Checkpoint {
  if (typeof file !== 'string' || file === '') fail('a checkpoint file path', 'file', file);
  const text = readRegularFile(file, MAX_CHECKPOINT_BYTES).toString('utf8');
  const newline = text.indexOf('\n');
  if (newline < 0) throw corrupt(file, 'the header line is missing (truncated?)');
  let header: { format?: unknown; version?: unknown; sha256?: unknown; bytes?: unknown };
  try {
    header = JSON.parse(text.slice(0, newline));
  } catch {
    throw corrupt(file, 'the header is not JSON');
  }
  if (header.format !== CHECKPOINT_FORMAT) throw corrupt(file, `the format is ${JSON.stringify(header.format)}, not '${CHECKPOINT_FORMAT}'`);
  if (header.version !== CHECKPOINT_VERSION) throw corrupt(file, `the version is ${JSON.stringify(header.version)} (this modprop reads version ${CHECKPOINT_VERSION})`);
  const payload = text.slice(newline + 1);
  if (Buffer.byteLength(payload) !== header.bytes) throw corrupt(file, `the payload has ${Buffer.byteLength(payload)} bytes, the header says ${String(header.bytes)} (truncated?)`);
  if (createHash('sha256').update(payload).digest('hex') !== header.sha256) throw corrupt(file, 'the checksum does not match (the file was modified or damaged)');
  let data: {
    network: NetworkConfig; params: Record<string, string>;
    optimizer: { kind: 'adam' | 'sgd'; step: number; m: Record<string, string> | null; v: Record<string, string> | null };
    position: TrainingPosition;
  };
  try {
    data = JSON.parse(payload);
  } catch {
    throw corrupt(file, 'the payload is not JSON');
  }
  const loading: Complain = (field, expected, received) => { throw corrupt(file, complaintText(field, expected, received)); };
  if (typeof data !== 'object' || data === null) loading('payload', 'an object', data);
  for (const k of ['network', 'params'] as const) if (typeof data[k] !== 'object' || data[k] === null) loading(k, 'an object', data[k]);
  checkOptimizerHead(data.optimizer, 'optimizer', loading);
  checkPosition(data.position, 'position', loading);
  const c = data.network;
  const loads = <T>(what: string, make: () => T): T => {
    try {
      return make();
    } catch (err) {
      throw corrupt(file, `${what} does not load (${(err as Error).message.replace(/ for config\./, ' for network.')})`);
    }
  };
  loads('network', () => networkConfig(c));
  const sizes: Record<ParamKey, number> = { win: c.nIn * c.nRec, wrec: c.nRec * c.nRec, wout: c.nRec * c.nOut, bout: c.nOut };
  const params = Object.fromEntries(PARAM_KEYS.map((k) => [k, decode(data.params[k], Float32Array, sizes[k], `params.${k}`, file)])) as unknown as Params;
  const network = loads('params', () => Network.fromParams(c, params));
  const moments = (r: Record<string, string> | null, name: string): Record<ParamKey, Float64Array> | undefined =>
    r ? (Object.fromEntries(PARAM_KEYS.map((k) => [k, decode(r[k], Float64Array, sizes[k], `optimizer.${name}.${k}`, file)])) as Record<ParamKey, Float64Array>) : undefined;
  const o = data.optimizer;
  const optimizer: OptimizerState = { kind: o.kind, step: o.step, m: moments(o.m, 'm'), v: moments(o.v, 'v') };
  for (const [which, r] of [['m', optimizer.m], ['v', optimizer.v]] as const) {
    for (const k of PARAM_KEYS) {
      const a = r?.[k];
      if (a) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) loading(`optimizer.${which}.${k}[${i}]`, 'a finite number', a[i]);
    }
  }
  return { network, optimizer, position: data.position };
}
