/**
 * A network as a numpy .npz archive: a zip (fflate) of one .npy per array, as numpy.savez writes it
 *
 *   win.npy (nIn, nRec) '<f4'   wrec.npy (nRec, nRec) '<f4'   wout.npy (nRec, nOut) '<f4'   bout.npy (nOut,) '<f4'
 *   types.npy (nRec,) '<i4'     type_signs.npy (nTypes,) '<i4' (empty when the network has no signs)
 *   config.npy  0-d unicode: the normalised network config as JSON (every field but the two arrays above)
 *
 * so `numpy.load(path)` reads it without allow_pickle, and a file numpy.savez wrote back loads here. Loading opens
 * only regular files of a bounded size, reads the config first and refuses entries larger than that config allows,
 * then checks every array's dtype and shape before the network validator checks values (finite, zero diagonal,
 * Dale's signs). Saving writes a temporary file in the same folder, fsyncs it and renames it over the target.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unzipSync, zipSync, type Unzipped } from 'fflate';
import { decodeNpy, encodeNpy, encodeNpyString, NpyError, type NpyArray } from './npy';
import { networkRecord } from './runRecord';
import { ReplaceError, replaceFile } from './safeFile';
import { centralCrcs, firstCorruptEntry } from './zipCrc';
import type { Params } from './types';
import { MAX_UNITS, ModpropError, type NormalizedNetworkConfig } from './validate';

const ARRAYS = ['win', 'wrec', 'wout', 'bout', 'types', 'type_signs'] as const;
const ENTRIES = ['config', ...ARRAYS].map((n) => `${n}.npy`);
/** What one read into a Buffer holds (2 GiB, a 16384-unit Wrec is 1 GiB): bigger files are refused before reading. */
const MAX_FILE_BYTES = 2 ** 31 - 1;
const MAX_CONFIG_BYTES = 1 << 20;
/** Room for a .npy header (numpy's are 128 bytes; version 2 allows more). */
const HEADER_ROOM = 1 << 16;
/** Fixed so the same network always gives the same bytes. */
const MTIME = new Date('2000-01-01T00:00:00Z');

/** A shape as Python writes it: (3,) or (2, 3). */
const tuple = (s: number[]): string => (s.length === 1 ? `(${s[0]},)` : `(${s.join(', ')})`);

function bad(file: string, why: string): ModpropError {
  return new ModpropError(`Expected a modprop network (.npz) for ${file} but received a file where ${why}`);
}

/** The config without the arrays that are entries of their own, as JSON. */
function configJson(c: Readonly<NormalizedNetworkConfig>): string {
  const { types: _t, typeSigns: _s, ...rest } = networkRecord(c);
  return JSON.stringify(rest);
}

export function saveNetworkFile(file: string, c: Readonly<NormalizedNetworkConfig>, p: Params): void {
  if (typeof file !== 'string' || file === '') throw new ModpropError(`Expected a file path for path but received ${JSON.stringify(file)}`);
  const target = path.resolve(file);
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(target);
  } catch {
    // A new file.
  }
  if (existing && !existing.isFile()) {
    throw new ModpropError(`Expected a regular file (or a new one) for path but received ${file}, which is ${kindOf(existing)}; it is left as it is`);
  }
  const typeSigns = c.typeSigns ? Int32Array.from(c.typeSigns) : new Int32Array(0);
  const zipped = zipSync({
    'config.npy': encodeNpyString(configJson(c)),
    'win.npy': encodeNpy(p.win, [c.nIn, c.nRec]),
    'wrec.npy': encodeNpy(p.wrec, [c.nRec, c.nRec]),
    'wout.npy': encodeNpy(p.wout, [c.nRec, c.nOut]),
    'bout.npy': encodeNpy(p.bout, [c.nOut]),
    'types.npy': encodeNpy(Int32Array.from(c.types), [c.nRec]),
    'type_signs.npy': encodeNpy(typeSigns, [typeSigns.length]),
  }, { level: 0, mtime: MTIME });
  try {
    replaceFile(target, zipped);
  } catch (err) {
    if (!(err instanceof ReplaceError)) throw err;
    throw new ModpropError(`Expected a writable path for path but received ${file} (${err.message})`);
  }
}

function kindOf(s: fs.Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isSymbolicLink()) return 'a symbolic link';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Reads a regular file of at most `max` bytes; a FIFO or device is refused before it is opened for reading. */
function readRegular(file: string, max: number): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new ModpropError(`Expected a readable .npz file for path but received ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (!st.isFile()) throw new ModpropError(`Expected a regular .npz file for path but received ${file}, which is ${kindOf(st)}`);
  if (st.size > max) throw bad(file, `the size is ${st.size} bytes (at most ${max} for any network)`);
  // O_NONBLOCK: should the path be swapped for a FIFO after the check, opening it does not hang.
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const again = fs.fstatSync(fd);
    if (!again.isFile() || again.size > max) throw bad(file, 'it changed while being opened');
    const out = Buffer.alloc(again.size);
    let off = 0;
    while (off < out.length) {
      const n = fs.readSync(fd, out, off, out.length - off, off);
      if (n === 0) throw bad(file, 'it is shorter than its size (truncated while reading)');
      off += n;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

function unzip(file: string, bytes: Uint8Array, limit: (name: string) => number | undefined): Unzipped {
  try {
    return unzipSync(bytes, {
      filter: (f) => {
        const max = limit(f.name);
        if (max === undefined) return false;
        if (f.originalSize > max) throw new NpyError(`the entry ${f.name} holds ${f.originalSize} bytes (at most ${max} for this network)`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof NpyError) throw bad(file, err.message);
    throw bad(file, `it is not a readable zip archive (${(err as Error).message})`);
  }
}

/** The entries `limit` admits, each checked against the CRC-32 its archive recorded for it. */
function unzipChecked(file: string, bytes: Uint8Array, crcs: ReadonlyMap<string, number>, limit: (name: string) => number | undefined): Unzipped {
  const entries = unzip(file, bytes, limit);
  const corrupt = firstCorruptEntry(crcs, entries);
  if (corrupt !== undefined) throw bad(file, `the entry ${corrupt} does not match its CRC-32 (the file is corrupt)`);
  return entries;
}

function decode(file: string, name: string, bytes: Uint8Array | undefined): NpyArray {
  if (!bytes) throw bad(file, `the entry ${name}.npy is missing (expected ${ENTRIES.join(', ')})`);
  try {
    return decodeNpy(bytes);
  } catch (err) {
    if (err instanceof NpyError) throw bad(file, `${name}.npy is not a valid .npy array: ${err.message}`);
    throw err;
  }
}

/** The raw contents of a network file: the config (as plain data, for the network validator) and the arrays. */
export function loadNetworkFile(file: string): { config: Record<string, unknown>; params: Params } {
  if (typeof file !== 'string' || file === '') throw new ModpropError(`Expected a file path for path but received ${JSON.stringify(file)}`);
  const bytes = readRegular(file, MAX_FILE_BYTES);
  let crcs: Map<string, number>;
  try {
    crcs = centralCrcs(bytes);
  } catch (err) {
    throw bad(file, `it is not a readable zip archive (${(err as Error).message})`);
  }
  const names: string[] = [];
  unzip(file, bytes, (n) => {
    if (!ENTRIES.includes(n) && !n.endsWith('/')) names.push(n);
    return undefined;
  });
  if (names.length > 0) throw bad(file, `it has the unexpected entries ${names.join(', ')} (expected ${ENTRIES.join(', ')})`);

  const head = unzipChecked(file, bytes, crcs, (n) => (n === 'config.npy' ? MAX_CONFIG_BYTES : undefined));
  const cfg = decode(file, 'config', head['config.npy']);
  if (cfg.dtype !== '<U') throw bad(file, `config.npy has dtype '${cfg.dtype}' (expected a 0-d unicode string of JSON)`);
  let config: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(cfg.data);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    config = parsed as Record<string, unknown>;
  } catch (err) {
    throw bad(file, `config.npy is not a JSON object (${(err as Error).message})`);
  }
  const dim = (k: string): number => {
    const v = config[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_UNITS) throw bad(file, `config.${k} is ${JSON.stringify(v)} (expected an integer between 1 and ${MAX_UNITS})`);
    return v;
  };
  const nIn = dim('nIn');
  const nRec = dim('nRec');
  const nOut = dim('nOut');
  const shapes: Record<(typeof ARRAYS)[number], number[] | 'signs'> = {
    win: [nIn, nRec], wrec: [nRec, nRec], wout: [nRec, nOut], bout: [nOut], types: [nRec], type_signs: 'signs',
  };
  const elements = (s: number[] | 'signs'): number => (s === 'signs' ? Math.max(nRec, 2) : s.reduce((a, b) => a * b, 1));
  const arrays = unzipChecked(file, bytes, crcs, (n) => {
    const key = n.replace(/\.npy$/, '') as (typeof ARRAYS)[number];
    return ARRAYS.includes(key) && n.endsWith('.npy') ? HEADER_ROOM + 4 * elements(shapes[key]) : undefined;
  });
  const get = (key: (typeof ARRAYS)[number], dtype: '<f4' | '<i4'): Float32Array | Int32Array => {
    const a = decode(file, key, arrays[`${key}.npy`]);
    if (a.dtype !== dtype) throw bad(file, `${key}.npy has dtype '${a.dtype}' (expected '${dtype}'; in numpy: .astype(numpy.${dtype === '<f4' ? 'float32' : 'int32'}))`);
    const want = shapes[key];
    const ok = want === 'signs' ? a.shape.length === 1 : a.shape.length === want.length && a.shape.every((d, i) => d === want[i]);
    if (!ok) throw bad(file, `${key}.npy has shape ${tuple(a.shape)} (expected ${want === 'signs' ? '(nTypes,)' : tuple(want)})`);
    return a.data as Float32Array | Int32Array;
  };
  const params: Params = {
    win: get('win', '<f4') as Float32Array, wrec: get('wrec', '<f4') as Float32Array,
    wout: get('wout', '<f4') as Float32Array, bout: get('bout', '<f4') as Float32Array,
  };
  const signs = get('type_signs', '<i4');
  return { config: { ...config, types: get('types', '<i4'), typeSigns: signs.length === 0 ? null : Array.from(signs) }, params };
}
