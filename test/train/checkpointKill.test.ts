/**
 * SIGKILL during checkpoint writes (issue 11): a child trains with checkpointEvery 1 and is killed at random moments,
 * then the next child resumes from whatever was left. Every file left must load, and the temporary files of killed
 * writers must be gone once a later save has run. MODPROP_KILLS sets the number of kills (default 6).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCheckpoint } from '../../lib/index';
import { Random } from '../../lib/random';

const KILLS = Number(process.env.MODPROP_KILLS ?? 6);
const root = path.resolve(__dirname, '../..');

/** A child that resumes from `file` when it exists and trains on, saving after every iteration. */
function child(file: string, iterations: number): string {
  return `require('tsx/cjs');
    const fs = require('node:fs');
    const m = require(${JSON.stringify(path.join(root, 'lib/index.ts'))});
    const net = m.Network.create({ nIn: 2, nRec: 120, nOut: 2, seed: 3 });
    const task = m.tasks.delayedXor({ cueSteps: 3, delaySteps: 4 });
    const resume = fs.existsSync(${JSON.stringify(file)}) ? { resume: ${JSON.stringify(file)} } : {};
    m.train(net, task, { rule: 'eprop', iterations: ${iterations}, batchSize: 4, evalEvery: 1, checkpoint: ${JSON.stringify(file)}, checkpointEvery: 1, seed: 1, ...resume,
      onProgress: (p) => { if (p.iteration > 0) process.stdout.write('saving\\n'); } })
      .then(() => process.stdout.write('done\\n'), (e) => { process.stderr.write(e.stack); process.exit(3); });`;
}

describe('checkpoints under SIGKILL', function () {
  this.timeout(600_000);

  it(`${KILLS} kills during training with checkpointEvery 1 leave only loadable checkpoints and, after the next save, no temporary file`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-kill-'));
    const file = path.join(dir, 'ck.json');
    const rng = new Random(KILLS, 3);
    let tempsSeen = 0;
    try {
      for (let k = 0; k < KILLS; k++) {
        const p = spawn(process.execPath, ['-e', child(file, 100_000)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d) => { err += d; });
        // Kill at a random moment once saving is under way (each iteration writes ≈ 400 KB).
        await new Promise<void>((resolve, reject) => {
          p.stdout.once('data', () => setTimeout(() => { p.kill('SIGKILL'); resolve(); }, rng.int(200)));
          p.once('exit', (code) => reject(new Error(`child exited with ${code} before it was killed: ${err}`)));
        });
        await new Promise((resolve) => p.once('exit', resolve));
        if (fs.existsSync(file)) loadCheckpoint(file); // throws if the kill left a damaged file
        tempsSeen += fs.readdirSync(dir).filter((n) => n.includes('.tmp-')).length;
      }
      const before = loadCheckpoint(file).position.iteration;
      const last = spawn(process.execPath, ['-e', child(file, before + 2)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      const code = await new Promise((resolve) => last.once('exit', resolve));
      assert.equal(code, 0);
      assert.equal(loadCheckpoint(file).position.iteration, before + 2);
      assert.deepEqual(fs.readdirSync(dir), ['ck.json'], 'no temporary file left after a later save');
      // eslint-disable-next-line no-console
      console.log(`      ${KILLS} kills; ${tempsSeen} temporary files seen right after a kill (all removed); final iteration ${before + 2}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
