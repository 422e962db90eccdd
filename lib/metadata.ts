/**
 * What a result file needs, beside the run's own settings, to be re-run and judged: which engine and SIMD level
 * computed it with how many threads, on which CPU, OS and Node, with which package version and (from a clone) git
 * commit, from which command line and when. Results are bit-identical only for the same SIMD level and thread
 * count, so every JSON the library or the CLI writes carries this record (`metadata`).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backend, getThreads } from './backend';
import { packageRoot } from './native/addon';

export interface RunMetadata {
  /** The modprop package version. */
  modprop: string;
  /** The engine that computed the result ('native' or 'reference'), and why not native when it is the reference. */
  engine: string;
  engineReason?: string;
  /** SIMD level of the native kernels (e.g. 'avx512', 'avx2', 'scalar'); absent on the reference engine. */
  simd?: string;
  /** Native threads per gradient call (1 on the reference engine). */
  threads: number;
  /** CPU model and the number of CPUs this process may use. */
  cpu: string;
  cpus: number;
  /** e.g. 'linux 6.1.0 x64'. */
  os: string;
  node: string;
  /** The git commit of the package, when it runs from a clone; `dirty` when the work tree has changes. */
  git?: { commit: string; dirty: boolean };
  /** process.argv from the script or command on (the node binary left out). */
  command: string[];
  /** ISO 8601, UTC. */
  date: string;
}

let gitCache: { value: RunMetadata['git'] } | undefined;

function gitOf(root: string | undefined): RunMetadata['git'] {
  if (gitCache) return gitCache.value;
  let value: RunMetadata['git'];
  try {
    if (root && fs.existsSync(path.join(root, '.git'))) {
      const run = (args: string[]): string => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      const commit = run(['rev-parse', 'HEAD']);
      const dirty = run(['status', '--porcelain', '--untracked-files=no']) !== '';
      if (/^[0-9a-f]{40}$/.test(commit)) value = { commit, dirty };
    }
  } catch {
    // No git on PATH, or not a repository: the record simply has no commit.
  }
  gitCache = { value };
  return value;
}

function packageVersion(root: string | undefined): string {
  try {
    if (root) return String(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  } catch {
    // fall through
  }
  return 'unknown';
}

/**
 * The metadata record of a run made now in this process. `threads` overrides the process's thread count when a run
 * used its own (e.g. `compare --threads-per-run`).
 */
export function runMetadata(overrides: { threads?: number; engine?: string } = {}): RunMetadata {
  const root = packageRoot(__dirname);
  const engine = overrides.engine ?? backend.name;
  const native = engine === 'native' ? backend.native : undefined;
  const cpus = os.cpus();
  const meta: RunMetadata = {
    modprop: packageVersion(root),
    engine,
    threads: overrides.threads ?? (engine === 'native' ? getThreads() : 1),
    cpu: cpus.length > 0 ? cpus[0].model.trim() : 'unknown',
    cpus: os.availableParallelism(),
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    command: process.argv.slice(1),
    date: new Date().toISOString(),
  };
  if (engine === backend.name && backend.reason) meta.engineReason = backend.reason;
  if (native && typeof native.simd === 'string') meta.simd = native.simd;
  const git = gitOf(root);
  if (git) meta.git = git;
  return meta;
}
