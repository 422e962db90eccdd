/**
 * Progress on stderr, never stdout (so `modprop train … | cat` and `--out -` stay clean): a cli-progress bar when
 * stderr is a terminal, otherwise one line per update, nothing with --quiet.
 */
import { SingleBar } from 'cli-progress';

export type ProgressMode = 'bar' | 'lines' | 'none';

export function progressMode(quiet: boolean | undefined): ProgressMode {
  if (quiet) return 'none';
  return process.stderr.isTTY ? 'bar' : 'lines';
}

export class Progress {
  private bar?: SingleBar;

  constructor(readonly mode: ProgressMode, total: number, label: string) {
    if (mode === 'bar') {
      this.bar = new SingleBar({
        stream: process.stderr,
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {status} | ETA {eta_formatted}`,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      });
      this.bar.start(total, 0, { status: 'starting' });
    }
  }

  /** Moves the bar to `value`; in line mode prints `line` (if given). */
  update(value: number, status: string, line?: string): void {
    if (this.bar) this.bar.update(value, { status });
    else if (this.mode === 'lines' && line !== undefined) process.stderr.write(line + '\n');
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
