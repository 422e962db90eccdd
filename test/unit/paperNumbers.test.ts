/**
 * A regression guard for "numbers must not move" (README and docs/study hold results at paper size: N = 120, C = 2,
 * delayed XOR, B = 32, T = 900): SHA-256 of the float32 bytes that every such result starts from — the parameters
 * `Network.create` makes (both recipes; subtypes only change the types), a delayed-XOR batch, and the reference
 * engine's gradients (pure float64 TypeScript, so the same on every machine) on a shortened batch.
 *
 * The hashes were recorded from commit d31e266, before sparse connectivity and the many-type paths existed, and are
 * unchanged by them. Delayed XOR's default sampler became 'fast' at d82f1da (the study was regenerated with it): the
 * batches and gradients below are pinned for both samplers, the box-muller ones still those of d31e266. They are not a correctness check (the gradient tests are): when a change is meant to move these
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

  it('a delayed-XOR batch (B = 32, T = 900), the default (fast) sampler and box-muller', () => {
    const b = task.sample(32, 7);
    assert.equal(sha([b.x, b.labels!]), '7f7e217886ed69f6abd9f68d6265086e65dfe999c67ef6586fb0cbf0811a8fac');
    const old = tasks.delayedXor({ sampler: 'box-muller' }).sample(32, 7);
    assert.equal(sha([old.x, old.labels!]), 'a0fc3c9266539ff461cfb664f285919cecb6e295587dd165e4b2f837b41b2fba');
  });

  const FAST: [RuleConfig, string][] = [
    [{ rule: 'modprop', mu: 0.25 }, 'de2efd1bb223655cf32d7f697573bb5c78e5d71cc2fb3325feb368646481421b'],
    [{ rule: 'modprop', mu: 0.25, online: true }, 'de2efd1bb223655cf32d7f697573bb5c78e5d71cc2fb3325feb368646481421b'],
    [{ rule: 'mdgl' }, 'f00274d28372104f3d888d0708b6064b324c424de3ce240c8e10275970ecac5c'],
    [{ rule: 'bptt' }, 'c12b0265c25b524968d98f0968243ac8e071c27d5a2efc745e7cae8ec1fc5606'],
  ];
  const BOX_MULLER: [RuleConfig, string][] = [
    [{ rule: 'modprop', mu: 0.25 }, '601f0d70c8d8820c311c8edef9d05d8ec7a6d7dd0e7c57748b2c56d746270d52'],
    [{ rule: 'modprop', mu: 0.25, online: true }, '601f0d70c8d8820c311c8edef9d05d8ec7a6d7dd0e7c57748b2c56d746270d52'],
    [{ rule: 'mdgl' }, '8051629f4df012b56ecc7e245fcf8da889bdb104f26aa0e8f74974b80ef3b258'],
    [{ rule: 'bptt' }, '1b6e3972ea64c0a82f68c7e83b6e2c0b0e4a2fa2999b9cfa231d679300d0cca4'],
  ];
  for (const [sampler, list] of [['fast', FAST], ['box-muller', BOX_MULLER]] as const) {
    for (const [rule, hash] of list) {
      it(`reference gradients, N = 120, C = 2, ${sampler} sampler: ${JSON.stringify(rule)}`, () => {
        const batch = tasks.delayedXor({ cueSteps: 5, delaySteps: 20, sampler }).sample(4, 7);
        const g = gradients(paperNet({}), batch, rule, { backend: 'reference' }).grads;
        assert.equal(sha([g.win, g.wrec, g.wout, g.bout]), hash);
      });
    }
  }
});
