/**
 * --rerun draws the batches the recorded run drew: the sampler of its config (train records it in every run), else
 * of its taskOptions (when chosen on the command line), else Box–Muller (files written before samplers existed).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tasks } from '../../lib/index';
import { rerunSettings } from '../../lib/cli/runFiles';
import { resolvedTrainOptions } from '../../lib/train';

describe('--rerun and the task sampler', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-rerun-sampler-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const write = (extra: Record<string, unknown>, taskOptions: Record<string, unknown>): string => {
    const file = path.join(tmp, `${Object.keys(extra).join('-') || 'none'}-${Object.keys(taskOptions).join('-') || 'none'}.json`);
    const config = { ...resolvedTrainOptions({ rule: 'bptt' }), task: 'delayed-xor', taskOptions: { delaySteps: 20, cueSteps: 5, ...taskOptions }, network: { nIn: 2, nRec: 10, nOut: 2 }, ...extra };
    fs.writeFileSync(file, JSON.stringify({ config, metadata: {}, curve: [] }));
    return file;
  };
  const batchOf = (file: string): Float32Array => rerunSettings(file).task.sample(4, 7).x;
  const fast = tasks.delayedXor({ delaySteps: 20, cueSteps: 5, sampler: 'fast' }).sample(4, 7).x;
  const old = tasks.delayedXor({ delaySteps: 20, cueSteps: 5, sampler: 'box-muller' }).sample(4, 7).x;

  it('uses the recorded sampler, and Box–Muller for files without one', () => {
    assert.notDeepEqual(fast, old);
    assert.deepEqual(batchOf(write({ sampler: 'fast' }, {})), fast);
    assert.deepEqual(batchOf(write({}, { sampler: 'fast' })), fast);
    assert.deepEqual(batchOf(write({ sampler: 'box-muller' }, {})), old);
    assert.deepEqual(batchOf(write({}, {})), old);
    assert.deepEqual(rerunSettings(write({ sampler: 'fast' }, {})).taskOptions, { delaySteps: 20, cueSteps: 5 }, 'the recorded options are not rewritten');
  });
});
