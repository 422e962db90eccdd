/**
 * numpy's .npy format (NEP 1): a magic string, a version, a header length and a Python dict literal
 *
 *   \x93NUMPY <major> <minor> <header length: u16 (v1) or u32 (v2, v3)> {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 *
 * padded with spaces and a newline so the data starts on a 64-byte boundary, then the raw little-endian elements.
 * No npm package both reads and writes it without pulling in a fetch layer (npyjs reads only), so this is a small
 * strict codec: it parses the header with a tiny literal parser (never eval) and knows exactly the dtypes modprop
 * stores: '<f4', '<i4' and '<U<n>' (a 0-d unicode string, UTF-32LE, for the config JSON).
 */

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
const ALIGN = 64;

export type NpyArray =
  | { dtype: '<f4'; shape: number[]; data: Float32Array }
  | { dtype: '<i4'; shape: number[]; data: Int32Array }
  | { dtype: '<U'; shape: []; data: string };

/** A malformed .npy entry; the caller adds which file and entry. */
export class NpyError extends Error {}

function header(descr: string, shape: number[]): Buffer {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  const text = dict + ' '.repeat((ALIGN - (unpadded % ALIGN)) % ALIGN) + '\n';
  const out = Buffer.alloc(MAGIC.length + 4 + text.length);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(text.length, 8);
  out.write(text, 10, 'latin1');
  return out;
}

/** A C-order array with the given shape (its element count must match). */
export function encodeNpy(data: Float32Array | Int32Array, shape: number[]): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new NpyError(`shape (${shape.join(', ')}) does not hold ${data.length} elements`);
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!littleEndian) throw new NpyError('big-endian hosts are not supported');
  return Buffer.concat([header(descr, shape), bytes]);
}

/** A 0-d unicode array holding `text` (numpy.load returns it as an array; str(a) is the text). */
export function encodeNpyString(text: string): Uint8Array {
  const points = Array.from(text, (ch) => ch.codePointAt(0)!);
  const data = Buffer.alloc(4 * points.length);
  points.forEach((p, i) => data.writeUInt32LE(p, 4 * i));
  return Buffer.concat([header(`<U${Math.max(points.length, 1)}`, []), points.length === 0 ? Buffer.alloc(4) : data]);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------------------------
// Header literal: a dict of string keys to a string, True/False or a tuple of non-negative integers.

type Literal = string | boolean | number[];

function parseDict(text: string): Map<string, Literal> {
  let i = 0;
  const ws = (): void => { while (i < text.length && /\s/.test(text[i])) i++; };
  const expect = (ch: string): void => {
    ws();
    if (text[i] !== ch) throw new NpyError(`the header is not a dict literal (expected '${ch}' at character ${i})`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') throw new NpyError(`the header has a non-string where a string belongs (character ${i})`);
    const end = text.indexOf(q, i + 1);
    if (end < 0) throw new NpyError('the header has an unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) throw new NpyError('the header has an escaped string');
    i = end + 1;
    return s;
  };
  const value = (): Literal => {
    ws();
    if (text.startsWith('True', i)) { i += 4; return true; }
    if (text.startsWith('False', i)) { i += 5; return false; }
    if (text[i] !== '(') return str();
    i++;
    const dims: number[] = [];
    for (;;) {
      ws();
      if (text[i] === ')') { i++; return dims; }
      const m = /^\d+L?/.exec(text.slice(i, i + 24));
      if (!m) throw new NpyError(`the header's shape has a non-integer at character ${i}`);
      dims.push(Number.parseInt(m[0], 10));
      i += m[0].length;
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') throw new NpyError(`the header's shape is malformed at character ${i}`);
    }
  };
  const out = new Map<string, Literal>();
  expect('{');
  for (;;) {
    ws();
    if (text[i] === '}') { i++; break; }
    const key = str();
    expect(':');
    if (out.has(key)) throw new NpyError(`the header repeats the key '${key}'`);
    out.set(key, value());
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new NpyError(`the header is malformed at character ${i}`);
  }
  if (text.slice(i).trim() !== '') throw new NpyError('the header has text after its dict');
  return out;
}

/** Decodes one .npy file. 2-D Fortran-order arrays are transposed to C order. */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new NpyError('it does not start with the .npy magic string');
  const major = buf[6];
  if (major < 1 || major > 3) throw new NpyError(`its .npy version is ${major}.${buf[7]} (1, 2 and 3 are known)`);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) throw new NpyError('it is truncated in its header');
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = 8 + lenBytes + hlen;
  if (start > buf.length) throw new NpyError('it is truncated in its header');
  const dict = parseDict(buf.toString(major === 3 ? 'utf8' : 'latin1', 8 + lenBytes, start));
  const keys = [...dict.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') throw new NpyError(`its header has the keys ${keys} (expected descr, fortran_order, shape)`);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string' || typeof fortran !== 'boolean' || !Array.isArray(shape)) throw new NpyError('its header has values of the wrong kinds');
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw new NpyError(`its shape (${shape.join(', ')}) is absurdly large`);
  const body = buf.subarray(start);

  const unicode = /^<U(\d+)$/.exec(descr);
  if (unicode) {
    if (shape.length !== 0) throw new NpyError(`its unicode array has shape (${shape.join(', ')}) (expected a 0-d string)`);
    const n = Number(unicode[1]);
    if (body.length !== 4 * n) throw new NpyError(`its data has ${body.length} bytes (expected ${4 * n} for ${descr})`);
    let text = '';
    for (let k = 0; k < n; k++) {
      const p = body.readUInt32LE(4 * k);
      if (p === 0) break; // numpy pads shorter strings with NUL
      if (p > 0x10ffff || (p >= 0xd800 && p <= 0xdfff)) throw new NpyError(`its string has the invalid code point ${p}`);
      text += String.fromCodePoint(p);
    }
    return { dtype: '<U', shape: [], data: text };
  }
  if (descr !== '<f4' && descr !== '<i4') throw new NpyError(`its dtype is '${descr}' (expected '<f4' float32 or '<i4' int32)`);
  if (body.length !== 4 * count) throw new NpyError(`its data has ${body.length} bytes (expected ${4 * count} for shape (${shape.join(', ')}) of ${descr})`);
  if (fortran && shape.length > 2) throw new NpyError('it is in Fortran order with more than 2 dimensions');
  // Copied into a fresh buffer: the entry's offset in the archive need not be 4-byte aligned.
  const raw = new Uint8Array(body.length);
  raw.set(body);
  let data: Float32Array | Int32Array = descr === '<f4' ? new Float32Array(raw.buffer) : new Int32Array(raw.buffer);
  if (fortran && shape.length === 2) data = transpose(data, shape[1], shape[0]);
  return descr === '<f4' ? { dtype: '<f4', shape, data: data as Float32Array } : { dtype: '<i4', shape, data: data as Int32Array };
}

/** `a` holds a rows × cols matrix in C order; returns its transpose in C order. */
function transpose<T extends Float32Array | Int32Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as { new (n: number): T })(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}
