/**
 * Saving and loading networks (.npz, lib/npz.ts) and the .npy codec under it: exact round trips, the layout numpy
 * expects (checked here byte by byte against NEP 1, independently of the decoder), and every refusal with its message.
 */
process.env.MODPROP_BACKEND = 'reference';

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { unzipSync, zipSync } from 'fflate';
import { Network, ModpropError, type NetworkConfig } from '../../lib/index';
import { decodeNpy, encodeNpy, encodeNpyString } from '../../lib/npy';

function bits(a: Float32Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function sameNetwork(a: Network, b: Network): void {
  for (const k of ['win', 'wrec', 'wout', 'bout'] as const) assert.ok(bits(a.params[k]).equals(bits(b.params[k])), k);
  assert.deepEqual(Array.from(a.types), Array.from(b.types));
  assert.deepEqual(a.config.typeSigns ? Array.from(a.config.typeSigns) : null, b.config.typeSigns ? Array.from(b.config.typeSigns) : null);
  assert.deepEqual({ ...a.config, types: null, typeSigns: null }, { ...b.config, types: null, typeSigns: null });
  assert.ok(bits(a.randomFeedback).equals(bits(b.randomFeedback)), 'random feedback (from the seed)');
}

const CONFIGS: [string, NetworkConfig][] = [
  ['default E/I types', { nIn: 3, nRec: 11, nOut: 2, seed: 7, tau: 20 }],
  ['all excitatory (excitatoryFraction 1)', { nIn: 2, nRec: 5, nOut: 1, seed: 2, excitatoryFraction: 1 }],
  ['custom types with signs', { nIn: 2, nRec: 6, nOut: 3, cellTypes: [0, 1, 2, 1, 0, 2], typeSigns: [1, -1, 1], threshold: 0.1 }],
  ['custom types without Dale', { nIn: 2, nRec: 4, nOut: 2, cellTypes: [0, 1, 2, 1], dale: false, dt: 0.5 }],
  ['liu2022 init with random subtypes', { nIn: 2, nRec: 20, nOut: 2, seed: 3, init: 'liu2022', subtypes: 2 }],
  ['balanced init rescaled', { nIn: 2, nRec: 8, nOut: 2, seed: 4, recurrentRadius: 1.3 }],
];

describe('Network.fromParams(net.config, net.params)', () => {
  for (const [name, config] of CONFIGS) {
    it(`round-trips its own normalised config: ${name}`, () => {
      const net = Network.create(config);
      sameNetwork(Network.fromParams(net.config, net.params), net);
    });
  }

  it('rejects a normalised config whose nTypes disagrees with its types', () => {
    const net = Network.create({ nIn: 2, nRec: 4, nOut: 1, cellTypes: [0, 1, 2, 1], typeSigns: [1, -1, 1] });
    assert.throws(() => Network.fromParams({ ...net.config, nTypes: 5 } as unknown as NetworkConfig, net.params),
      { name: 'ModpropError', message: 'Expected nTypes = 3 (one more than the largest type id) for config.nTypes but received 5' });
  });

  it('rejects cellTypes and types together', () => {
    const net = Network.create({ nIn: 2, nRec: 4, nOut: 1 });
    assert.throws(() => Network.fromParams({ ...net.config, cellTypes: [0, 1, 1, 1] } as unknown as NetworkConfig, net.params),
      { name: 'ModpropError', message: /^Expected either cellTypes or types \(the normalised form\), not both for config\.types/ });
  });
});

describe('.npy codec', () => {
  it('writes the header NEP 1 describes: magic, version 1.0, a 64-byte aligned dict literal', () => {
    const bytes = Buffer.from(encodeNpy(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]));
    assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = bytes.readUInt16LE(8);
    assert.equal((10 + hlen) % 64, 0);
    assert.equal(bytes.toString('latin1', 10, 10 + hlen).trimEnd(), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    assert.equal(bytes.length, 10 + hlen + 24);
    assert.equal(bytes.readFloatLE(10 + hlen + 20), 6);
  });

  it('round-trips float32, int32 (1-d and empty) and unicode beyond the BMP', () => {
    const f = Float32Array.from([0.1, -2.5e-38, 3e38, -0]);
    const a = decodeNpy(encodeNpy(f, [4]));
    assert.equal(a.dtype, '<f4');
    assert.ok(bits(a.data as Float32Array).equals(bits(f)));
    const e = decodeNpy(encodeNpy(new Int32Array(0), [0]));
    assert.deepEqual([e.dtype, e.shape, (e.data as Int32Array).length], ['<i4', [0], 0]);
    const s = decodeNpy(encodeNpyString('{"τ": 1, "x": "😀"}'));
    assert.deepEqual(s, { dtype: '<U', shape: [], data: '{"τ": 1, "x": "😀"}' });
  });

  it('transposes a 2-d Fortran-order array to C order', () => {
    // 2 × 3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
    const header = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }";
    const h = Buffer.from(header.padEnd(64 - 10 - 1) + '\n', 'latin1');
    const len = Buffer.alloc(2);
    len.writeUInt16LE(h.length);
    const data = Buffer.from(Int32Array.from([1, 4, 2, 5, 3, 6]).buffer);
    const a = decodeNpy(Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), len, h, data]));
    assert.deepEqual(Array.from(a.data as Int32Array), [1, 2, 3, 4, 5, 6]);
  });

  const withHeader = (dict: string, body: Buffer): Buffer => {
    const h = Buffer.from(dict + ' \n', 'latin1');
    const len = Buffer.alloc(2);
    len.writeUInt16LE(h.length);
    return Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), len, h, body]);
  };
  const refusals: [string, Buffer, RegExp][] = [
    ['a wrong magic', Buffer.from('NUMPY header'), /does not start with the \.npy magic/],
    ['float64', withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(8)), /dtype is '<f8'/],
    ['big-endian', withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(4)), /dtype is '>f4'/],
    ['a short body', withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", Buffer.alloc(8)), /8 bytes \(expected 12/],
    ['a missing key', withHeader("{'descr': '<f4', 'shape': (1,), }", Buffer.alloc(4)), /keys descr,shape/],
    ['code in the header', withHeader("{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(4)), /non-string/],
    ['an absurd shape', withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", Buffer.alloc(4)), /absurdly large/],
  ];
  for (const [what, bytes, message] of refusals) {
    it(`refuses ${what}`, () => assert.throws(() => decodeNpy(bytes), message));
  }
});

describe('net.save / Network.load (.npz)', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-npz-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, config] of CONFIGS) {
    it(`round-trips bit for bit: ${name}`, () => {
      const net = Network.create(config);
      // Trained-looking weights: not the ones the seed recreates.
      for (let i = 0; i < net.params.bout.length; i++) net.params.bout[i] = 0.125 * (i + 1);
      const file = path.join(dir, 'net.npz');
      net.save(file);
      const back = Network.load(file);
      sameNetwork(back, net);
      assert.equal(back.params.bout[0], 0.125);
    });
  }

  it('stores one .npy per array plus the config, as numpy.savez names them', () => {
    const net = Network.create({ nIn: 3, nRec: 5, nOut: 2, seed: 1 });
    const file = path.join(dir, 'net.npz');
    net.save(file);
    const entries = unzipSync(fs.readFileSync(file));
    assert.deepEqual(Object.keys(entries).sort(), ['bout.npy', 'config.npy', 'type_signs.npy', 'types.npy', 'win.npy', 'wout.npy', 'wrec.npy']);
    assert.deepEqual(decodeNpy(entries['wrec.npy']).shape, [5, 5]);
    const config = JSON.parse(decodeNpy(entries['config.npy']).data as string);
    assert.deepEqual(config, {
      nIn: 3, nRec: 5, nOut: 2, tau: 100, dt: 1, threshold: 0, dale: true, excitatoryFraction: 0.8, nTypes: 2, seed: 1,
      init: 'balanced', recurrentRadius: null, subtypes: 1, connectivity: 1,
    });
  });

  it('the same network gives the same bytes (no timestamps)', () => {
    const net = Network.create({ nIn: 2, nRec: 4, nOut: 1 });
    net.save(path.join(dir, 'a.npz'));
    net.save(path.join(dir, 'b.npz'));
    assert.ok(fs.readFileSync(path.join(dir, 'a.npz')).equals(fs.readFileSync(path.join(dir, 'b.npz'))));
  });

  it('replaces an existing file atomically and leaves no temporary file', () => {
    const file = path.join(dir, 'net.npz');
    fs.writeFileSync(file, 'old');
    Network.create({ nIn: 2, nRec: 4, nOut: 1 }).save(file);
    assert.deepEqual(fs.readdirSync(dir), ['net.npz']);
    assert.equal(Network.load(file).nRec, 4);
  });

  it('never replaces a folder, a symbolic link or a FIFO', function () {
    const net = Network.create({ nIn: 2, nRec: 4, nOut: 1 });
    fs.mkdirSync(path.join(dir, 'folder.npz'));
    assert.throws(() => net.save(path.join(dir, 'folder.npz')), /which is a folder; it is left as it is/);
    fs.writeFileSync(path.join(dir, 'target'), 'keep');
    fs.symlinkSync(path.join(dir, 'target'), path.join(dir, 'link.npz'));
    assert.throws(() => net.save(path.join(dir, 'link.npz')), /which is a symbolic link/);
    assert.equal(fs.readFileSync(path.join(dir, 'target'), 'utf8'), 'keep');
    execFileSync('mkfifo', [path.join(dir, 'fifo.npz')]);
    assert.throws(() => net.save(path.join(dir, 'fifo.npz')), /which is a FIFO/);
    assert.throws(() => Network.load(path.join(dir, 'fifo.npz')), { name: 'ModpropError', message: /^Expected a regular \.npz file for path but received .*fifo\.npz, which is a FIFO$/ });
    assert.throws(() => Network.load(dir), /which is a folder/);
  });

  describe('refuses damaged or foreign files, naming the file and the problem', () => {
    const net = Network.create({ nIn: 2, nRec: 4, nOut: 1, seed: 3 });
    const entriesOf = (): Record<string, Uint8Array> => {
      const file = path.join(dir, 'good.npz');
      net.save(file);
      return unzipSync(fs.readFileSync(file));
    };
    const loadWith = (change: (e: Record<string, Uint8Array>) => void): void => {
      const e = entriesOf();
      change(e);
      const file = path.join(dir, 'bad.npz');
      fs.writeFileSync(file, zipSync(e));
      Network.load(file);
    };
    const prefix = (): string => `Expected a modprop network (.npz) for ${path.join(dir, 'bad.npz')} but received a file where `;

    it('a missing file', () => {
      assert.throws(() => Network.load(path.join(dir, 'none.npz')), { message: `Expected a readable .npz file for path but received ${path.join(dir, 'none.npz')} (ENOENT)` });
    });
    it('not a zip', () => {
      fs.writeFileSync(path.join(dir, 'bad.npz'), 'hello');
      assert.throws(() => Network.load(path.join(dir, 'bad.npz')), (e: Error) => e instanceof ModpropError && e.message.startsWith(prefix() + 'it is not a readable zip archive'));
    });
    it('a truncated archive', () => {
      net.save(path.join(dir, 'good.npz'));
      const bytes = fs.readFileSync(path.join(dir, 'good.npz'));
      fs.writeFileSync(path.join(dir, 'bad.npz'), bytes.subarray(0, bytes.length - 30));
      assert.throws(() => Network.load(path.join(dir, 'bad.npz')), (e: Error) => e.message.startsWith(prefix()));
    });
    it('a missing entry', () => {
      assert.throws(() => loadWith((e) => delete e['wout.npy']), { message: prefix() + 'the entry wout.npy is missing (expected config.npy, win.npy, wrec.npy, wout.npy, bout.npy, types.npy, type_signs.npy)' });
    });
    it('an unexpected entry', () => {
      assert.throws(() => loadWith((e) => { e['extra.npy'] = e['bout.npy']; }), { message: prefix() + 'it has the unexpected entries extra.npy (expected config.npy, win.npy, wrec.npy, wout.npy, bout.npy, types.npy, type_signs.npy)' });
    });
    it('float64 weights', () => {
      assert.throws(() => loadWith((e) => {
        const h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }";
        const len = Buffer.alloc(2);
        len.writeUInt16LE(h.length + 2);
        e['bout.npy'] = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), len, Buffer.from(h + ' \n'), Buffer.alloc(8)]);
      }), { message: prefix() + "bout.npy is not a valid .npy array: its dtype is '<f8' (expected '<f4' float32 or '<i4' int32)" });
    });
    it('a wrong shape', () => {
      assert.throws(() => loadWith((e) => { e['wrec.npy'] = encodeNpy(new Float32Array(16), [16]); }), { message: prefix() + 'wrec.npy has shape (16,) (expected (4, 4))' });
    });
    it('types as float32', () => {
      assert.throws(() => loadWith((e) => { e['types.npy'] = encodeNpy(new Float32Array(4), [4]); }), { message: prefix() + "types.npy has dtype '<f4' (expected '<i4'; in numpy: .astype(numpy.int32))" });
    });
    it('an entry larger than its network allows (checked before inflating)', () => {
      assert.throws(() => loadWith((e) => { e['bout.npy'] = encodeNpy(new Float32Array(100_000), [100_000]); }), { message: prefix() + 'the entry bout.npy holds 400128 bytes (at most 65540 for this network)' });
    });
    it('an absurd layer size in the config', () => {
      assert.throws(() => loadWith((e) => { e['config.npy'] = encodeNpyString('{"nIn": 2, "nRec": 1e9, "nOut": 1}'); }), { message: prefix() + 'config.nRec is 1000000000 (expected an integer between 1 and 16384)' });
    });
    it('config that is not JSON', () => {
      assert.throws(() => loadWith((e) => { e['config.npy'] = encodeNpyString('nIn=2'); }), (err: Error) => err.message.startsWith(prefix() + 'config.npy is not a JSON object'));
    });
    it('a non-finite weight (the network validator, with the file named)', () => {
      const w = Float32Array.from(net.params.win);
      w[1] = NaN;
      assert.throws(() => loadWith((e) => { e['win.npy'] = encodeNpy(w, [2, 4]); }), { message: `Expected finite values for params.win but received NaN at index 1 (in ${path.join(dir, 'bad.npz')})` });
    });
    it('an unknown config field', () => {
      assert.throws(() => loadWith((e) => { e['config.npy'] = encodeNpyString('{"nIn": 2, "nRec": 4, "nOut": 1, "nTypes": 2, "colour": 1}'); }), { message: /^Expected only the options .* for config but received unknown option 'colour' \(in / });
    });
  });
});
