/**
 * The build chain: the addon of this checkout loads and agrees with lib/contract.ts, and the packed tarball (with its
 * prebuilt binary) installs into a fresh project with no compiler on PATH, with or without install scripts, where
 * `require` and `import` see the same exports and `modprop info` reports the native engine.
 *
 * MODPROP_ADDON_PATH=<file> tests that binary (CI uses it for the cmake-js build); MODPROP_NATIVE=0|1 also checks
 * the binary's `portable` flag (a MODPROP_NATIVE=1 build is not portable); MODPROP_SKIP_PACK=1 skips the (slow)
 * packaging test.
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
    const native = process.env.MODPROP_NATIVE;
    if (native === '0' || native === '1') assert.equal(info.portable, native === '0');
  });

  it('finds the package root from lib/ and from dist/', () => {
    assert.equal(packageRoot(path.join(ROOT, 'lib', 'native')), ROOT);
    assert.equal(packageRoot(path.join(ROOT, 'dist', 'native')), ROOT);
    assert.equal(packageRoot(os.tmpdir()), undefined);
  });
});

// C/C++ compilers and make, with Debian's versioned and target-prefixed names (g++-12, x86_64-linux-gnu-gcc, …).
const BUILD_TOOL = /^(?:[\w-]+-linux-gnu-)?(?:g\+\+|c\+\+|cc|gcc|cpp|c89|c99|clang|clang\+\+|make|gmake)(?:-[\d.]+)?$/;

/** One bin folder with every program of PATH except the build tools, as on a machine without them. */
function pathWithoutCompiler(dir: string): string {
  const bin = path.join(dir, 'bin-no-compiler');
  fs.mkdirSync(bin);
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      const link = path.join(bin, name);
      if (!BUILD_TOOL.test(name) && !fs.existsSync(link)) fs.symlinkSync(path.join(d, name), link);
    }
  }
  return bin;
}

function seconds(since: bigint): string {
  return (Number(process.hrtime.bigint() - since) / 1e9).toFixed(1);
}

describe('npm package', () => {
  let work: string | undefined;

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('installs from its tarball with no compiler, with and without install scripts, and runs the prebuilt engine', function () {
    if (process.env.MODPROP_SKIP_PACK === '1') this.skip();
    if (process.platform !== 'linux' || process.arch !== 'x64') this.skip();  // prebuilds/ covers linux-x64 only
    this.timeout(15 * 60_000);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'modprop-pack-'));
    const noCompiler = pathWithoutCompiler(work);
    for (const tool of ['g++', 'c++', 'cc', 'gcc', 'make', 'x86_64-linux-gnu-g++-12']) {
      assert.ok(!fs.existsSync(path.join(noCompiler, tool)), `${tool} is on the reduced PATH`);
    }
    assert.ok(fs.existsSync(path.join(noCompiler, 'node')) && fs.existsSync(path.join(noCompiler, 'sh')), 'node or sh is missing');
    const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string =>
      execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

    // `npm pack` runs `prepack` (prebuildify: prebuilds/linux-x64) and `prepare` (a fresh dist/).
    // Lifecycle scripts print to the same stdout before npm's JSON.
    const packOutput = run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
    const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[/m))) as
      { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
    const tarball = path.join(work, packed[0].filename);
    const files = packed[0].files.map((f) => f.path);
    console.log(`      tarball ${(packed[0].size / 1e6).toFixed(2)} MB, unpacked ${(packed[0].unpackedSize / 1e6).toFixed(2)} MB, ${files.length} files`);
    for (const f of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'binding.gyp', 'native/binding/addon.cc',
      'native/core/contract.h', 'LICENSE', 'prebuilds/linux-x64/modprop.glibc.node']) {
      assert.ok(files.includes(f), `the tarball has no ${f}`);
    }
    assert.ok(!files.some((f) => f.startsWith('build/') || f.startsWith('build-cmake/') || f.startsWith('node_modules/')),
      'the tarball carries build output');
    assert.deepEqual(files.filter((f) => f.startsWith('native/tests/') || f.endsWith('.map')), [],
      'the tarball carries native/tests or source maps whose sources it does not ship');

    const env: NodeJS.ProcessEnv = { ...process.env, PATH: noCompiler };
    delete env.MODPROP_ADDON_PATH;
    delete env.MODPROP_BACKEND;
    delete env.npm_config_nodedir;  // no headers either: nothing may be compiled
    const install = (name: string, extra: string[]): string => {
      const app = path.join(work!, name);
      fs.mkdirSync(app);
      fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: `modprop-${name}`, version: '1.0.0', private: true }));
      // Dependencies come from the npm cache.
      const started = process.hrtime.bigint();
      run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', ...extra], app, env);
      console.log(`      npm install ${extra.join(' ')} (no compiler on PATH): ${seconds(started)} s, ` +
        `${run('du', ['-sh', 'node_modules'], app).split('\t')[0]} in node_modules`);
      return app;
    };

    // With install scripts: node-gyp-build finds the prebuild loadable and compiles nothing.
    const app = install('with-scripts', ['--ignore-scripts=false']);
    const node = (args: string[]): string => run(process.execPath, args, app, env);
    const cjsNames = JSON.parse(node(['-e', "console.log(JSON.stringify(Object.keys(require('modprop')).sort()))"])) as string[];
    const esmNames = JSON.parse(node(['--input-type=module', '-e',
      "import * as m from 'modprop'; console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort()))"])) as string[];
    assert.ok(cjsNames.includes('version'), `require('modprop') exports ${cjsNames.join(', ')}`);
    assert.deepEqual(esmNames, cjsNames);
    const installed = fs.realpathSync(path.join(app, 'node_modules', 'modprop'));
    assert.ok(!fs.existsSync(path.join(installed, 'build')), 'the install compiled the addon although a prebuild was shipped');
    for (const dir of [app, install('ignore-scripts', ['--ignore-scripts'])]) {
      const info = JSON.parse(run('npx', ['--no-install', 'modprop', 'info', '--json'], dir, env)) as
        { engine: string; native: { path: string; portable: boolean } | null };
      assert.equal(info.engine, 'native', `${dir}: ${JSON.stringify(info)}`);
      const prebuilt = path.join(fs.realpathSync(path.join(dir, 'node_modules', 'modprop')), 'prebuilds', 'linux-x64', 'modprop.glibc.node');
      assert.equal(info.native?.path, prebuilt);
      assert.equal(info.native?.portable, true);
    }
  });
});
