/**
 * A throw-away single-node Slurm cluster on localhost for tests: munged with a generated key on its own socket, then
 * slurmctld and slurmd as root with a minimal slurm.conf on free ports, everything (state, spool, logs, pid files)
 * in one temporary folder. Debian's slurm-wlm 22.05 and munge (.ci/apt-packages) provide the daemons.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Cluster {
  dir: string;
  /** Environment for sbatch, squeue, … (SLURM_CONF); jobs inherit it. */
  env: NodeJS.ProcessEnv;
  run(cmd: string, args: string[]): string;
  /** Resolves when no job is queued or running; rejects after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void>;
  stop(): void;
}

const DAEMONS = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/bin/squeue', '/usr/bin/srun'];

/** Why the daemons cannot run here, or undefined when they can be tried. */
export function cannotRun(): string | undefined {
  if (process.platform !== 'linux') return `Slurm test daemons run on Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'the single-node Slurm cluster needs root (slurmd runs jobs as their user)';
  const missing = DAEMONS.filter((d) => !fs.existsSync(d));
  if (missing.length) return `not installed: ${missing.join(', ')} (Debian packages slurm-wlm and munge, see .ci/apt-packages)`;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts the cluster; throws with the daemons' log tails when it does not answer `srun hostname`. */
export async function startCluster(): Promise<Cluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-slurm-'));
  fs.chmodSync(dir, 0o755);
  for (const d of ['munge', 'state', 'spool', 'log']) fs.mkdirSync(path.join(dir, d), { mode: 0o700 });
  fs.chmodSync(path.join(dir, 'munge'), 0o755); // the socket's folder must be searchable by all
  const key = path.join(dir, 'munge', 'munge.key');
  fs.writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const socket = path.join(dir, 'munge', 'munge.sock');
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'slurm.conf');
  const cpus = Math.max(1, os.availableParallelism());
  // Less than the machine has, or slurmd would mark the node invalid; jobs' --mem is checked against it.
  const memMb = Math.floor(0.8 * os.totalmem() / 2 ** 20);
  fs.writeFileSync(conf, `ClusterName=modproptest
SlurmctldHost=localhost
SlurmctldPort=${ctldPort}
SlurmdPort=${dPort}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${socket}
CredType=cred/munge
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=${os.hostname()} CPUs=${cpus} RealMemory=${memMb} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
`);
  // Jobs inherit this environment: no engine override that a test file left behind (the engine is the default one).
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  delete env.MODPROP_BACKEND;
  const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { env, encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = (): void => {
    spawnSync('/usr/bin/scontrol', ['shutdown'], { env, timeout: 10_000, stdio: 'ignore' });
    for (const pidFile of ['slurmctld.pid', 'slurmd.pid']) {
      try {
        process.kill(Number(fs.readFileSync(path.join(dir, pidFile), 'utf8')), 'SIGTERM');
      } catch {
        // already gone after scontrol shutdown
      }
    }
    spawnSync('/usr/sbin/munged', ['--stop', `--socket=${socket}`], { timeout: 10_000, stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('/usr/sbin/munged', [`--socket=${socket}`, `--key-file=${key}`, `--log-file=${dir}/log/munged.log`,
      `--pid-file=${dir}/munge/munged.pid`, `--seed-file=${dir}/munge/munged.seed`]);
    run('/usr/sbin/slurmctld', ['-c', '-f', conf]);
    run('/usr/sbin/slurmd', ['-f', conf]);
    // slurmd registers within a second or two; --immediate makes srun fail rather than wait for a node that is down.
    for (let i = 0; ; i++) {
      try {
        if (run('/usr/bin/srun', ['--immediate=5', '--time=1', 'hostname']).trim() !== '') break;
      } catch (err) {
        if (i >= 4) throw err;
      }
      await sleep(1000);
    }
  } catch (err) {
    const logs = ['munged.log', 'slurmctld.log', 'slurmd.log'].map((f) => `--- ${f}\n${tail(path.join(dir, 'log', f))}`).join('\n');
    stop();
    throw new Error(`the single-node Slurm cluster did not start: ${(err as Error).message}\n${logs}`);
  }
  const idle = async (timeoutMs: number): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (run('/usr/bin/squeue', ['-h', '-o', '%i']).trim() !== '') {
      if (Date.now() > until) throw new Error(`jobs still queued after ${timeoutMs} ms:\n${run('/usr/bin/squeue', [])}`);
      await sleep(500);
    }
  };
  return { dir, env, run, idle, stop };
}
