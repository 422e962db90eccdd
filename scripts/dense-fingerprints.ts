/**
 * Records the fingerprints of dense native results (test/native/fixtures/denseFingerprints.ts) computed by the
 * library at LIB (default: this checkout's lib/index.ts), merged into FILE under the key of its build and SIMD level:
 *
 *   npx tsx scripts/dense-fingerprints.ts /path/to/other/checkout/lib/index.ts test/native/fixtures/dense-fingerprints.json
 *
 * Run it with the build to hold later builds to (e.g. the main branch's checkout before a kernel change), once per
 * MODPROP_SIMD level; test/native/denseBits.test.ts then compares this checkout's results with the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildKey, denseFingerprints } from '../test/native/fixtures/denseFingerprints';

const lib = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'lib', 'index.ts'));
const file = path.resolve(process.argv[3] ?? path.join(__dirname, '..', 'test', 'native', 'fixtures', 'dense-fingerprints.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mod = require(lib);
const info = mod.backend.native as Record<string, unknown> | undefined;
if (!info || mod.backend.name !== 'native') throw new Error(`the library at ${lib} has no native engine: ${mod.backend.reason}`);
const all = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
const key = buildKey(info);
all[key] = denseFingerprints(mod);
fs.writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
console.log(`${key}: ${Object.keys(all[key]).length} fingerprints from ${String(info.path)} into ${file}`);
