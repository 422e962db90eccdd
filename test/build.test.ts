/**
 * The build chain: the addon of this checkout loads and agrees with lib/contract.ts, and the packed tarball installs
 * into a fresh project where `require` and `import` see the same exports.
 *
 * MODPROP_ADDON_PATH=<file> tests that binary (CI uses it for the cmake-js build); MODPROP_PORTABLE=0|1 also checks
 * the binary's `portable` flag; MODPROP_SKIP_PACK=1 skips the (slow) packaging test.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONTRACT } from '../lib/contract';
import { loadAddon, packageRoot } from '../lib/native/addon';

const ROOT = path.resolve(__dirname, '..');
const SIMD_LEVELS = ['avx512', 'avx2', 'sse2', 'neon', 'scalar'];

describe('native addon of this checkout', () => {
  const loaded = loadAddon();

  it('loads', () => {
    if ('error' in loaded) assert.fail(loaded.error);
    const expected = process.env.MODPROP_ADDON_PATH;
    if (expected) assert.equal(loaded.path, path.resolve(expected));
  });

  it('exports the contract of lib/contract.ts', function () {
    if ('error' in loaded) this.skip();
    assert.deepEqual(loaded.addon.contract, CONTRACT);
  });

  it('reports how it was built', function () {
    if ('error' in loaded) this.skip();
    const info = loaded.addon.info();
    assert.ok(SIMD_LEVELS.includes(info.simd), `info().simd = ${info.simd}`);
    assert.ok(Number.isInteger(info.hardwareThreads) && info.hardwareThreads >= 1, `hardwareThreads = ${info.hardwareThreads}`);
    assert.equal(typeof info.compiler, 'string');
    assert.ok(info.compiler.length > 0);
    assert.equal(typeof info.portable, 'boolean');
    const portable = process.env.MODPROP_PORTABLE;
    if (portable === '0' || portable === '1') assert.equal(info.portable, portable === '1');
  });

  it('finds the package root from lib/ and from dist/', () => {
    assert.equal(packageRoot(path.join(ROOT, 'lib', 'native')), ROOT);
    assert.equal(packageRoot(path.join(ROOT, 'dist', 'native')), ROOT);
    assert.equal(packageRoot(os.tmpdir()), undefined);
  });
});

describe('npm package', () => {
  let work: string | undefined;

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('installs from its tarball and exposes the same names to require and import', function () {
    if (process.env.MODPROP_SKIP_PACK === '1') this.skip();
    this.timeout(15 * 60_000);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-pack-'));
    const npm = (args: string[], cwd: string): string =>
      execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

    // `npm pack` runs `prepare`, so the tarball carries a fresh dist/.
    // Lifecycle scripts print to the same stdout before npm's JSON.
    const packOutput = npm(['pack', '--json', '--pack-destination', work], ROOT);
    const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
    const tarball = path.join(work, packed[0].filename);
    const files = packed[0].files.map((f) => f.path);
    for (const f of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'binding.gyp', 'native/binding/addon.cc', 'native/core/contract.h']) {
      assert.ok(files.includes(f), `the tarball has no ${f}`);
    }
    assert.ok(!files.some((f) => f.startsWith('build/') || f.startsWith('build-cmake/') || f.startsWith('node_modules/')),
      'the tarball carries build output');

    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'modprop-pack-test', version: '1.0.0', private: true }));
    // Dependencies come from the npm cache; the install script (node-gyp rebuild) compiles the addon there.
    npm(['install', tarball, '--prefer-offline', '--ignore-scripts=false', '--no-audit', '--no-fund'], app);

    const env = { ...process.env };
    delete env.MODPROP_ADDON_PATH;
    const node = (args: string[]): string => execFileSync(process.execPath, args, { cwd: app, env, encoding: 'utf8' });
    const cjsNames = JSON.parse(node(['-e', "console.log(JSON.stringify(Object.keys(require('modprop')).sort()))"])) as string[];
    const esmNames = JSON.parse(node(['--input-type=module', '-e',
      "import * as m from 'modprop'; console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort()))"])) as string[];
    assert.ok(cjsNames.includes('version'), `require('modprop') exports ${cjsNames.join(', ')}`);
    assert.deepEqual(esmNames, cjsNames);

    // The installed copy built its own addon and finds it from dist/.
    const installed = path.join(app, 'node_modules', 'modprop');
    const probe = `const r = require(${JSON.stringify(path.join(installed, 'dist', 'native', 'addon.js'))}).loadAddon();` +
      " console.log(JSON.stringify('error' in r ? { error: r.error } : { path: r.path }))";
    const result = JSON.parse(node(['-e', probe])) as { path?: string; error?: string };
    assert.equal(result.error, undefined);
    assert.equal(result.path, path.join(fs.realpathSync(installed), 'build', 'Release', 'modprop.node'));
  });
});
