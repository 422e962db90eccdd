/**
 * The CRC-32 of every entry of a zip archive, read from its central directory (APPNOTE 4.3.12 and 4.3.16).
 *
 * fflate inflates entries but does not check their CRC-32, so a flipped byte in a stored (.npz) entry would load as a
 * silently different network; Python's zipfile, which numpy uses, refuses such a file. The central directory is the
 * one place every writer (fflate, numpy's zip64 entries, streamed entries with data descriptors) records the CRC, so
 * it is all that is read here. Sizes are not read (zip64 may move them to extra fields); fflate checks those.
 */
import { crc32 } from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const EOCD_SIZE = 22;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** name → CRC-32 stored for it; throws an Error saying what is malformed. */
export function centralCrcs(zip: Uint8Array): Map<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  // The end record sits before an archive comment of at most 65535 bytes.
  let end = -1;
  for (let at = zip.length - EOCD_SIZE; at >= 0 && at >= zip.length - EOCD_SIZE - 0xffff; at--) {
    if (view.getUint32(at, true) === EOCD) { end = at; break; }
  }
  if (end < 0) throw new Error('no end-of-central-directory record');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const out = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== CENTRAL) throw new Error(`central directory entry ${i} is malformed`);
    const crc = view.getUint32(at + 16, true);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (at + 46 + skip > end) throw new Error(`central directory entry ${i} runs past the directory`);
    const name = utf8.decode(zip.subarray(at + 46, at + 46 + nameLength));
    if (out.has(name)) throw new Error(`the entry ${name} appears twice`);
    out.set(name, crc);
    at += 46 + skip;
  }
  return out;
}

/** The name of the first entry whose contents do not match its recorded CRC-32, or undefined when all do. */
export function firstCorruptEntry(crcs: ReadonlyMap<string, number>, entries: Readonly<Record<string, Uint8Array>>): string | undefined {
  for (const [name, data] of Object.entries(entries)) {
    const want = crcs.get(name);
    if (want === undefined || crc32(data) >>> 0 !== want) return name;
  }
  return undefined;
}
