/**
 * A regression guard for "numbers must not move" (README and docs/study hold results at paper size: N = 120, C = 2,
 * delayed XOR, B = 32, T = 900): SHA-256 of the float32 bytes that every such result starts from — the parameters
 * `Network.create` makes (both recipes; subtypes only change the types), a delayed-XOR batch, and the reference
 * engine's gradients (pure float64 TypeScript, so the same on every machine) on a shortened batch.
 *
 * The hashes were recorded from commit d31e266, before sparse connectivity and the many-type paths existed, and are
 * unchanged by them. They are not a correctness check (the gradient tests are): when a change is meant to move these
 * numbers, regenerate what the README and docs/study report and update the hashes in the same commit.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Network, gradients, tasks, type RuleConfig } from '../../lib/index';

function sha(arrays: ArrayBufferView[]): string {
  const h = createHash('sha256');
  for (const a of arrays) h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}

const task = tasks.delayedXor({});
const paperNet = (extra: object): Network => Network.create({ nIn: task.nIn, nRec: 120, nOut: task.nOut, seed: 3, ...extra });
const paramsHash = (net: Network): string => sha([net.params.win, net.params.wrec, net.params.wout, net.params.bout]);

describe('paper-size numbers do not move', () => {
  const BALANCED = '5454b7ad16e7d415fd344d1e8d4c0a751ee19b093e61a443b26c49dbd3938b2e';
  it('Network.create: balanced, liu2022, subtypes 4 and connectivity 1', () => {
    assert.equal(paramsHash(paperNet({})), BALANCED);
    assert.equal(paramsHash(paperNet({ connectivity: 1 })), BALANCED);
    assert.equal(paramsHash(paperNet({ subtypes: 4 })), BALANCED);
    assert.equal(paramsHash(paperNet({ init: 'liu2022' })), '4f7182c426fa3dc94897e63572d1a9198233c5a7a0df60921e6e57d9632f0b9d');
  });

  it('a delayed-XOR batch (B = 32, T = 900)', () => {
    const b = task.sample(32, 7);
    assert.equal(sha([b.x, b.labels!]), 'a0fc3c9266539ff461cfb664f285919cecb6e295587dd165e4b2f837b41b2fba');
  });

  const GRADIENTS: [RuleConfig, string][] = [
    [{ rule: 'modprop', mu: 0.25 }, '601f0d70c8d8820c311c8edef9d05d8ec7a6d7dd0e7c57748b2c56d746270d52'],
    [{ rule: 'modprop', mu: 0.25, online: true }, '601f0d70c8d8820c311c8edef9d05d8ec7a6d7dd0e7c57748b2c56d746270d52'],
    [{ rule: 'mdgl' }, '8051629f4df012b56ecc7e245fcf8da889bdb104f26aa0e8f74974b80ef3b258'],
    [{ rule: 'bptt' }, '1b6e3972ea64c0a82f68c7e83b6e2c0b0e4a2fa2999b9cfa231d679300d0cca4'],
  ];
  for (const [rule, hash] of GRADIENTS) {
    it(`reference gradients, N = 120, C = 2: ${JSON.stringify(rule)}`, () => {
      const batch = tasks.delayedXor({ cueSteps: 5, delaySteps: 20 }).sample(4, 7);
      const g = gradients(paperNet({}), batch, rule, { backend: 'reference' }).grads;
      assert.equal(sha([g.win, g.wrec, g.wout, g.bout]), hash);
    });
  }
});
