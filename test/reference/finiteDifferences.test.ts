/**
 * bptt is the exact gradient: compare it with central finite differences of the loss, in float64, on every entry of
 * all four parameter matrices, for several seeds, both losses, C = 1, 2, 3 cell types and a non-zero threshold.
 */
import assert from 'node:assert/strict';
import { referenceGradients, referenceLoss } from '../../lib/reference/index';
import type { Model64 } from '../../lib/reference/model';
import { MATRICES, norm, randomData, randomModel, relMaxError, rule, type Fixture } from '../helpers';

function finiteDifferences(m: Model64, d: ReturnType<typeof randomData>, key: (typeof MATRICES)[number]): Float64Array {
  const arr = m[key];
  const fd = new Float64Array(arr.length);
  const h = 1e-6;
  for (let i = 0; i < arr.length; i++) {
    if (key === 'wrec' && i % (m.nRec + 1) === 0) continue; // the diagonal does not exist
    const original = arr[i];
    arr[i] = original + h;
    const plus = referenceLoss(m, d);
    arr[i] = original - h;
    const minus = referenceLoss(m, d);
    arr[i] = original;
    fd[i] = (plus - minus) / (2 * h);
  }
  return fd;
}

describe('reference bptt against finite differences (float64)', () => {
  const cases: Fixture[] = [];
  for (const loss of ['xent-last', 'mse'] as const) {
    for (const nTypes of [1, 2, 3]) cases.push({ seed: 11 + nTypes, loss, nTypes });
    cases.push({ seed: 29, loss, threshold: 0.3, tau: 20, steps: 15 });
    cases.push({ seed: 31, loss, nIn: 2, nRec: 9, nOut: 3, batchSize: 2, steps: 20, tau: 100 });
  }
  for (const f of cases) {
    it(`matches on all matrices: ${JSON.stringify(f)}`, () => {
      const m = randomModel(f);
      const d = randomData(m, f);
      const { loss, grads } = referenceGradients(m, d, rule({ rule: 'bptt' }));
      assert.ok(Math.abs(loss - referenceLoss(m, d)) < 1e-12, 'the loss returned with the gradient is the forward loss');
      for (const key of MATRICES) {
        const fd = finiteDifferences(m, d, key);
        assert.ok(norm(fd) > 1e-6, `${key}: the finite-difference gradient is non-trivial`);
        const err = relMaxError(grads[key], fd);
        assert.ok(err < 1e-6, `${key}: max error ${err} relative to the largest entry`);
      }
      // The network is in a regime where some units are active and some are not, so relu' matters.
      const active = grads.wrec.filter((g) => g !== 0).length;
      assert.ok(active > 0 && active < m.nRec * m.nRec, 'some but not all recurrent gradients are exactly zero or non-zero');
    });
  }

  it('the diagonal of dWrec is zero (self-connections do not exist)', () => {
    const m = randomModel({ seed: 5 });
    const d = randomData(m, { seed: 5, loss: 'mse' });
    const { grads } = referenceGradients(m, d, rule({ rule: 'bptt' }));
    for (let i = 0; i < m.nRec; i++) assert.equal(grads.wrec[i * m.nRec + i], 0);
  });
});
