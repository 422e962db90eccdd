/**
 * Prints, as JSON, the SIMD level and a SHA-256 per case of the native engine's outputs on rate-unit networks:
 * gradients of every native rule (both losses, threads 1 and 2, N up to 520 for the packed-panel path) and forward.
 * Run with the repository root to load as argv[2] (default: this checkout), so the same cases can be hashed on
 * another checkout; test/native/rateBits.test.ts compares this checkout's hashes with ones recorded before the
 * spiking neurons reached the native engine.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '..'));
/* eslint-disable @typescript-eslint/no-require-imports */
const m = require(path.join(root, 'lib', 'index.ts')) as typeof import('../../lib/index');
const c = require(path.join(root, 'test', 'native', 'common.ts')) as typeof import('./common');

function sha(arrays: ArrayBufferView[], extra: number[] = []): string {
  const h = createHash('sha256');
  for (const a of arrays) h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  h.update(Buffer.from(Float64Array.from(extra).buffer));
  return h.digest('hex').slice(0, 16);
}

const out: Record<string, string> = {};
const cases = [
  { nRec: 37, batch: 7, steps: 60, loss: 'xent-last', layout: 1 },
  { nRec: 53, batch: 5, steps: 40, loss: 'mse', layout: 3 },
] as const;
for (const k of cases) {
  const net = c.makeNet({ nIn: 3, nRec: k.nRec, nOut: 2, seed: 5, tau: 15, layout: c.LAYOUTS[k.layout], scaled: { wrecScale: 1.3, winScale: 1.5 } });
  const batch = c.makeBatch(net, k.batch, k.steps, k.loss, 6);
  for (const threads of [1, 2]) {
    const f = net.forward(batch, { backend: 'native', threads });
    out[`forward N=${k.nRec} threads=${threads}`] = sha([f.v, f.z, f.y]);
    for (const r of c.NATIVE_RULES) {
      const g = m.gradients(net, batch, r, { backend: 'native', loss: k.loss, threads });
      out[`${c.label(r)} N=${k.nRec} ${k.loss} threads=${threads}`] = sha([g.grads.win, g.grads.wrec, g.grads.wout, g.grads.bout], [g.loss]);
    }
  }
}
const big = c.makeNet({ nIn: 3, nRec: 520, nOut: 2, seed: 7, tau: 15, layout: c.LAYOUTS[1] });
const bigBatch = c.makeBatch(big, 2, 8, 'xent-last', 8);
const fb = big.forward(bigBatch, { backend: 'native', threads: 2 });
out['forward N=520'] = sha([fb.v, fb.z, fb.y]);
for (const r of [{ rule: 'bptt' }, { rule: 'modprop', feedback: 'cell' }] as const) {
  const g = m.gradients(big, bigBatch, r, { backend: 'native', threads: 2 });
  out[`${c.label(r)} N=520`] = sha([g.grads.win, g.grads.wrec, g.grads.wout, g.grads.bout], [g.loss]);
}
const info = (m.backend.native ?? {}) as { simd?: string };
process.stdout.write(JSON.stringify({ simd: info.simd, hashes: out }) + '\n');
