/**
 * Large arrays in transparent huge pages (lib/largeArrays.ts, native/binding/memory.cc): the arrays are ordinary and
 * zero-filled; on Linux with THP not disabled the advice covers their 2 MiB-aligned interior; the raw binding refuses
 * a non-array; and the advice changes no value: Network.create gives the same parameters with MODPROP_HUGE_PAGES=0.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Network } from '../../lib/index';
import { HUGE_FROM_BYTES, largeFloat32Array, largeFloat64Array } from '../../lib/largeArrays';
import { loadAddon } from '../../lib/native/addon';

const ROOT = path.join(__dirname, '..', '..');

function thpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

describe('large arrays in huge pages', function () {
  this.timeout(120000);

  it('largeFloat64Array / largeFloat32Array: zero-filled typed arrays of the length asked, small or large', () => {
    for (const length of [0, 5, HUGE_FROM_BYTES / 8 + 3, 3 * HUGE_FROM_BYTES / 8]) {
      const a = largeFloat64Array(length);
      assert.ok(a instanceof Float64Array);
      assert.equal(a.length, length);
      assert.ok(a.every((v) => v === 0));
      const b = largeFloat32Array(length * 2);
      assert.ok(b instanceof Float32Array);
      assert.equal(b.length, length * 2);
      assert.ok(b.every((v) => v === 0));
      if (length > 0) {
        a[length - 1] = 1.5;
        b[0] = -2;
        assert.equal(a[length - 1], 1.5);
        assert.equal(b[0], -2);
      }
    }
  });

  it('the raw binding advises the 2 MiB-aligned interior on Linux (where THP is not disabled) and refuses a non-array', function () {
    const loaded = loadAddon();
    if (!('addon' in loaded) || typeof loaded.addon.adviseHugePages !== 'function') this.skip();
    const advise = (loaded as { addon: { adviseHugePages: (a: unknown) => number } }).addon.adviseHugePages;
    const a = new Float64Array(3 * 2 ** 20 + 17); // 24 MB + a bit: at least 10 whole 2 MiB pages inside
    const bytes = advise(a);
    const mode = thpMode();
    if (process.platform === 'linux' && mode !== undefined && mode !== 'never') {
      assert.ok(bytes >= 20 * 2 ** 20 && bytes <= a.byteLength && bytes % (2 * 2 ** 20) === 0, `advised ${bytes} bytes`);
    } else {
      assert.ok(bytes >= 0 && bytes <= a.byteLength);
    }
    assert.ok(a.every((v) => v === 0), 'the advice changed the contents');
    assert.equal(advise(new Float32Array(10)), 0, 'an array without a whole 2 MiB page inside');
    assert.throws(() => advise(123), (e: Error & { code?: string }) => e.code === 'MODPROP_INVALID' && /typed array/.test(e.message));
  });

  it('Network.create at N = 1500 (a 9 MB Wrec) gives the same parameters with MODPROP_HUGE_PAGES=0', () => {
    const config = { nIn: 2, nRec: 1500, nOut: 2, seed: 4 };
    const hash = (p: Network['params']): string => {
      const h = createHash('sha256');
      for (const k of ['win', 'wrec', 'wout', 'bout'] as const) h.update(Buffer.from(p[k].buffer, p[k].byteOffset, p[k].byteLength));
      return h.digest('hex');
    };
    const here = hash(Network.create(config).params);
    const script = `const { Network } = require('./lib/index'); const { createHash } = require('node:crypto');
      const p = Network.create(${JSON.stringify(config)}).params; const h = createHash('sha256');
      for (const k of ['win', 'wrec', 'wout', 'bout']) h.update(Buffer.from(p[k].buffer, p[k].byteOffset, p[k].byteLength));
      process.stdout.write(h.digest('hex'));`;
    const other = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, env: { ...process.env, MODPROP_HUGE_PAGES: '0' }, encoding: 'utf8' });
    assert.match(here, /^[0-9a-f]{64}$/);
    assert.equal(other, here);
  });
});
