/**
 * The shipped binary runs on x86-64 CPUs older than the build machine's. Under `qemu-x86_64 -cpu Haswell` (AVX2, no
 * AVX-512) it loads, picks the AVX2 kernels, honours MODPROP_SIMD, and gives the host's gradients to rounding; and
 * only the instruction-set kernel files and GCC's target clones carry AVX/AVX-512 registers (objdump), so nothing
 * outside the run-time dispatch can reach them.
 *
 * The binary under test: MODPROP_ADDON_PATH when set, else prebuilds/linux-x64/ (what `npm pack` ships), else the
 * checkout's own build. The probe loads the compiled library (dist/, from `npm run build:ts`). A missing qemu-x86_64
 * or objdump fails under CI=true and skips elsewhere.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAddon } from '../../lib/native/addon';
import { norm, relNormError } from '../native/common';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist', 'index.js');
const RULES = ['bptt', 'modprop', 'modpropOnline', 'eprop'] as const;

interface Probe {
  engine: string;
  simd: string;
  portable: boolean;
  results: Record<string, { loss: number; grads: Record<string, number[]> }>;
}

// A few seeded gradients through the public API of the compiled library.
const PROBE = `
const m = require(${JSON.stringify(DIST)});
const net = m.Network.create({ nIn: 3, nRec: 37, nOut: 2, seed: 5, tau: 15 });
const batchSize = 7, steps = 40;
const x = Float32Array.from({ length: batchSize * steps * 3 }, (_, i) => 1 + Math.sin(i * 0.37));
const batch = { x, batchSize, steps, labels: Int32Array.from({ length: batchSize }, (_, b) => b % 2) };
const rules = { bptt: { rule: 'bptt' }, modprop: { rule: 'modprop' }, modpropOnline: { rule: 'modprop', online: true },
  eprop: { rule: 'eprop', online: true } };
const results = {};
for (const [name, rule] of Object.entries(rules)) {
  const g = m.gradients(net, batch, rule, { backend: 'native', loss: 'xent-last' });
  const grads = {};
  for (const k of ['win', 'wrec', 'wout', 'bout']) grads[k] = Array.from(g.grads[k]);
  results[name] = { loss: g.loss, grads };
}
const info = m.backend.native;
console.log(JSON.stringify({ engine: m.backend.name, simd: info.simd, portable: info.portable, results }));
`;

function binaryUnderTest(): string {
  if (process.env.MODPROP_ADDON_PATH) return path.resolve(process.env.MODPROP_ADDON_PATH);
  const dir = path.join(ROOT, 'prebuilds', 'linux-x64');
  const prebuilt = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')).sort() : [];
  if (prebuilt.length > 0) return path.join(dir, prebuilt[0]);
  const loaded = loadAddon();
  if ('error' in loaded) throw new Error(loaded.error);
  return loaded.path;
}

function onPath(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Skips with a message, or fails under CI=true where the tool is installed from .ci/apt-packages. */
function requireTool(ctx: Mocha.Context, tool: string): void {
  if (onPath(tool)) return;
  if (process.env.CI === 'true') assert.fail(`${tool} is not on PATH (CI installs it from .ci/apt-packages)`);
  console.log(`      (skipped: ${tool} is not on PATH; Debian: apt-get install ${tool === 'objdump' ? 'binutils' : 'qemu-user'})`);
  ctx.skip();
}

function probe(binary: string, simd: string | undefined, qemuCpu?: string): Probe {
  const env: NodeJS.ProcessEnv = { ...process.env, MODPROP_ADDON_PATH: binary };
  delete env.MODPROP_BACKEND;
  delete env.MODPROP_SIMD;
  if (simd) env.MODPROP_SIMD = simd;
  const [cmd, args] = qemuCpu
    ? ['qemu-x86_64', ['-cpu', qemuCpu, process.execPath, '-e', PROBE]]
    : [process.execPath, ['-e', PROBE]];
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  // qemu lists the host features its emulator lacks (pcid, x2apic, …); they do not matter to user code.
  const stderr = r.stderr.split('\n').filter((l) => !l.includes("TCG doesn't support requested feature")).join('\n');
  assert.equal(r.status, 0, `${cmd} with MODPROP_SIMD=${simd ?? '(unset)'} exited with ${r.status ?? r.signal}: ${stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
}

function assertClose(got: Probe, want: Probe, what: string): void {
  for (const rule of RULES) {
    const a = got.results[rule];
    const b = want.results[rule];
    assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(b.loss), `${what} ${rule}: loss ${a.loss} vs ${b.loss}`);
    for (const k of Object.keys(b.grads)) {
      assert.ok(norm(b.grads[k]) > 1e-8, `${rule}: the host's ${k} gradient is zero, so the comparison means nothing`);
      const err = relNormError(a.grads[k], b.grads[k]);
      assert.ok(err < 1e-5, `${what} ${rule}: ${k} differs from the host's by ${err}`);
    }
  }
}

describe('portability of the shipped binary (x86-64)', function () {
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  this.timeout(300_000);
  let binary: string;
  let host: Probe;

  before(function () {
    if (!fs.existsSync(DIST)) assert.fail(`${DIST} is missing: run npm run build:ts`);
    binary = binaryUnderTest();
    host = probe(binary, undefined);
    assert.equal(host.engine, 'native');
    if (!host.portable) {
      console.log(`      (skipped: ${binary} is a MODPROP_NATIVE=1 build, which is not meant to run on other CPUs)`);
      this.skip();
    }
  });

  it('only the run-time dispatched code uses ymm/zmm registers (objdump)', function () {
    requireTool(this, 'objdump');
    const listing = execFileSync('objdump', ['-d', '-C', '--no-show-raw-insn', binary], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const wide = new Set<string>();
    let fn = '';
    for (const line of listing.split('\n')) {
      const head = /^[0-9a-f]+ <(.*)>:$/.exec(line);
      if (head) fn = head[1];
      else if (/%[yz]mm\d/.test(line)) wide.add(fn);
    }
    assert.ok(wide.size > 0, 'no function uses ymm/zmm: the AVX2/AVX-512 kernels are missing or the listing is unreadable');
    // Demangled names may start with a return type ("void modprop::kernels::isa::…"); GCC's target_clones (the
    // online ModProp filter) are picked at load by an ifunc resolver and carry their target in the clone name.
    const dispatched = (f: string): boolean =>
      /^(?:\w+ )?modprop::kernels::isa::/.test(f) || /\[clone \.(?:avx2|avx512f)[\].]/.test(f);
    const stray = [...wide].filter((f) => !dispatched(f));
    assert.deepEqual(stray, [], 'functions outside the run-time dispatched kernels use AVX/AVX-512 registers');
  });

  it('loads on a Haswell CPU (qemu), runs the AVX2 kernels and matches the host', function () {
    requireTool(this, 'qemu-x86_64');
    const haswell = probe(binary, undefined, 'Haswell');
    assert.equal(haswell.engine, 'native');
    assert.equal(haswell.simd, 'avx2');
    assertClose(haswell, host, 'Haswell');
  });

  it('MODPROP_SIMD lowers the level under qemu and cannot raise it above the CPU', function () {
    requireTool(this, 'qemu-x86_64');
    const scalar = probe(binary, 'scalar', 'Haswell');
    assert.equal(scalar.simd, 'scalar');
    assertClose(scalar, host, 'Haswell, MODPROP_SIMD=scalar');
    assert.equal(probe(binary, 'avx512', 'Haswell').simd, 'avx2');
  });
});
