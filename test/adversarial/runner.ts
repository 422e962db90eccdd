/**
 * Child-process entry of the adversarial suite: runs the generated cases one by one and prints one JSON line per
 * case. A "start" line is written synchronously before each call, so if this process dies (crash) or stops
 * answering (hang), the parent knows which call did it.
 */
import * as fs from 'node:fs';
import { makeCases, prepareFiles, type Case } from './generator';

const [seed, count, dir] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const HANG_MS = 5000;
// Lines go to a regular file, not stdout: a pipe can refuse a write with EAGAIN under load, which crashed the runner.
const log = fs.openSync(`${dir}/outcomes.jsonl`, 'w');
const say = (o: object): void => void fs.writeSync(log, `${JSON.stringify(o)}\n`);

async function classify(c: Case): Promise<{ outcome: string; detail?: string; ms: number }> {
  const t0 = Date.now();
  try {
    let value = c.run();
    if (value instanceof Promise) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise((_, reject) => { timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { name: 'Hang' })), HANG_MS); });
      try {
        value = await Promise.race([value, late]);
      } finally {
        clearTimeout(timer);
      }
    }
    const ms = Date.now() - t0;
    if (ms > HANG_MS) return { outcome: 'hang', detail: `returned after ${ms} ms`, ms };
    const why = c.invalid(value);
    return why ? { outcome: 'wrong', detail: why, ms } : { outcome: 'valid', ms };
  } catch (err) {
    const ms = Date.now() - t0;
    const e = err as Error;
    if (e?.name === 'Hang' || ms > HANG_MS) return { outcome: 'hang', detail: `${ms} ms`, ms };
    if (e?.name === 'ModpropError' && c.names.some((n) => n !== '' && e.message.includes(n))) return { outcome: 'clean', ms };
    return { outcome: 'other', detail: `${e?.name}: ${String(e?.message).slice(0, 300)}`, ms };
  }
}

async function main(): Promise<void> {
  await prepareFiles(dir);
  const cases = makeCases(seed, count, dir);
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    say({ start: i, api: c.api, arg: c.arg });
    say({ i, api: c.api, arg: c.arg, ...(await classify(c)) });
  }
  say({ done: cases.length });
}

process.on('unhandledRejection', (err) => say({ unhandled: String((err as Error)?.stack ?? err) }));
void main();
