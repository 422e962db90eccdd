/** Runs the CLI as a user would (a separate node process on lib/cli.ts under tsx), and checks SVG output. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'lib', 'cli.ts');
const TSX = require.resolve('tsx/cjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment of the child: no inherited engine override unless the test sets one. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('MODPROP_BACKEND' in extra)) delete env.MODPROP_BACKEND;
  return env;
}

export function start(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): ChildProcess {
  return spawn(process.execPath, ['--require', TSX, CLI, ...args], { cwd: opts.cwd ?? ROOT, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return collect(start(args, opts));
}

/** Asserts a file is a well-formed SVG document and returns its text. */
export function assertSvg(file: string): string {
  assert.ok(fs.existsSync(file), `${file} was not written`);
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /^<svg[\s>]/, 'the file starts with <svg');
  const valid = XMLValidator.validate(text);
  assert.equal(valid, true, `well-formed XML: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({ ignoreAttributes: false }).parse(text) as Record<string, Record<string, unknown>>;
  assert.ok(doc.svg, 'the root element is <svg>');
  assert.equal(doc.svg['@_xmlns'], 'http://www.w3.org/2000/svg');
  assert.ok(Number(doc.svg['@_width']) > 100 && Number(doc.svg['@_height']) > 100, 'has a size');
  return text;
}

/** Text content of an SVG (what the labels say), for checking legends and titles. */
export function svgText(svg: string): string {
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1].replace(/<tspan[^>]*>/g, '\n').replace(/<[^>]+>/g, '')).join('\n');
}
