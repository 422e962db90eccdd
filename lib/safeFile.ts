/**
 * Writing and reading a user's file without ever losing it (issue 11 "Data loss").
 *
 * A write goes to one temporary file per (target, host, process) in the target's folder, checks every byte count,
 * fsyncs, and only then renames over the target; on any failure the temporary file is removed and the target is left
 * as it was. Temporary files of writers on this host that died (SIGKILL leaves them behind) are removed by the next
 * write. Targets that are not regular files (devices, FIFOs, directories) are refused, never replaced; a symbolic
 * link is followed, so the file it names is replaced and the link stays. A read refuses non-regular files before
 * reading a byte and caps the size, so `/dev/zero` or a huge file cannot exhaust memory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModpropError } from './validate';

/** "a FIFO", "a character device", … for an error message. */
export function kindOf(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

function cause(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code) return `${e.code} (${e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')})`;
  return e.message ?? String(err);
}

const tmpPrefix = (base: string): string => `.${base}.tmp-${os.hostname()}-`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.<base>.tmp-<this host>-<pid>` files whose writer process no longer exists. Best effort. */
function removeStaleTemps(dir: string, base: string): void {
  const prefix = tmpPrefix(base);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // another writer removed it first, or the folder is read-only: nothing to do
    }
  }
}

/** Why `replaceFile` failed: the target is not a regular file (`notRegular`, message: its kind), or the write failed. */
export class ReplaceError extends Error {
  constructor(readonly notRegular: boolean, message: string) {
    super(message);
  }
}

/**
 * Atomically replaces (or creates) `file` with `data`, as the header says. Throws a ReplaceError whose message is the
 * cause (e.g. "ENOSPC (no space left on device, write)"), for the caller to word for its own argument.
 */
export function replaceFile(file: string, data: string | Buffer | Uint8Array): void {
  const unwritable = (why: string): never => {
    throw new ReplaceError(false, why);
  };
  let target = path.resolve(file);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') unwritable(cause(err));
  }
  if (st && !st.isFile()) throw new ReplaceError(true, kindOf(st));
  if (st) target = fs.realpathSync(target); // write beside the file a link names, so the link survives
  const dir = path.dirname(target);
  const base = path.basename(target);
  try {
    const d = fs.statSync(dir);
    if (!d.isDirectory()) unwritable(`ENOTDIR (${dir} is ${kindOf(d)}, not a folder)`);
  } catch (err) {
    if (err instanceof ReplaceError) throw err;
    unwritable(`${cause(err)}: the folder ${dir} cannot be used`);
  }
  removeStaleTemps(dir, base);

  const tmp = path.join(dir, `${tmpPrefix(base)}${process.pid}`);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
    for (let at = 0; at < bytes.length;) {
      const n = fs.writeSync(fd, bytes, at, bytes.length - at, at);
      if (!(n > 0)) throw new Error(`short write: ${at} of ${bytes.length} bytes written, then the disk took no more`);
      at += n;
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // the write error is the one to report
      }
    }
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // the folder refuses removal too (read-only): the next write retries it
    }
    unwritable(cause(err));
  }
  syncFolder(dir);
}

/**
 * `replaceFile` for a checkpoint: throws a ModpropError naming `name` and the user's path. `left` says what the
 * failure leaves (e.g. "the previous checkpoint there is intact").
 */
export function writeFileAtomic(file: string, data: string | Buffer, name: string, left = 'the file there is unchanged'): void {
  try {
    replaceFile(file, data);
  } catch (err) {
    if (!(err instanceof ReplaceError)) throw err;
    if (err.notRegular) throw new ModpropError(`Expected a regular file or a new path for ${name} but received '${file}' (${err.message}); it was not touched`);
    throw new ModpropError(`Expected a writable checkpoint path for ${name} but received '${file}' (${err.message}); ${left}`);
  }
}

/** Makes the rename itself durable; some filesystems refuse fsync on a folder, which is harmless here. */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // durability of the rename is best effort
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Reads a regular file of at most `maxBytes` bytes. Opens without blocking (a FIFO with no writer would wait
 * forever), checks the kind and size on the open descriptor, then reads exactly that many bytes.
 */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new ModpropError(`Expected a regular checkpoint file for ${file} but received a directory`);
    throw new ModpropError(`Expected a readable checkpoint file for ${file} but received ${code ?? cause(err)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ModpropError(`Expected a regular checkpoint file for ${file} but received ${kindOf(st)}`);
    if (st.size > maxBytes) throw new ModpropError(`Expected a checkpoint file of at most ${maxBytes} bytes for ${file} but received ${st.size} bytes`);
    const out = Buffer.alloc(st.size);
    let at = 0;
    while (at < out.length) {
      const n = fs.readSync(fd, out, at, out.length - at, at);
      if (n === 0) break; // the file shrank while we read: the length check after this reports it
      at += n;
    }
    return at === out.length ? out : out.subarray(0, at);
  } catch (err) {
    if (err instanceof ModpropError) throw err;
    throw new ModpropError(`Expected a readable checkpoint file for ${file} but received ${cause(err)}`);
  } finally {
    fs.closeSync(fd);
  }
}
