/** `modprop info`: which engine is in use and why, what the native addon reports, versions. */
import * as os from 'node:os';
import { Command } from 'commander';
import { NATIVE_ENGINE_FIX, backend } from '../backend';
import { version } from '../index';
import { addEngineOptions, applyEngineFlags, json, type EngineFlags } from './common';

export function infoCommand(): Command {
  const cmd = new Command('info').description('show the engine in use (and why), the native addon, and versions');
  addEngineOptions(cmd);
  return cmd
    .option('--json', 'print the same as JSON')
    .addHelpText('after', `
Examples:
  $ modprop info
  $ modprop info --json
  $ MODPROP_BACKEND=reference modprop info     # or: modprop info --backend reference`)
    .action((flags: EngineFlags & { json?: boolean }) => {
      applyEngineFlags(flags);
      const native = backend.native;
      const data = {
        engine: backend.name,
        reason: backend.reason ?? null,
        // Only when the native engine is missing rather than declined.
        nativeFix: backend.name === 'reference' && !native ? NATIVE_ENGINE_FIX : null,
        native: native ?? null,
        versions: { modprop: version, node: process.versions.node, napi: process.versions.napi, v8: process.versions.v8 },
        platform: `${os.platform()} ${os.arch()}`,
        cpus: os.availableParallelism(),
      };
      if (flags.json) {
        process.stdout.write(json(data));
        return;
      }
      const lines = [
        `engine        ${data.engine}${data.reason ? ` (${data.reason})` : ''}`,
      ];
      if (native) {
        lines.push(
          `native addon  ${String(native.path)}`,
          `  simd        ${String(native.simd)}${native.portable ? ' (portable build)' : ''}`,
          `  threads     ${String(native.threads)} of ${String(native.hardwareThreads)} hardware threads`,
          `  compiler    ${String(native.compiler)}`,
        );
      } else {
        lines.push('native addon  not loaded');
        if (data.nativeFix) lines.push(`  to get it    ${data.nativeFix}`);
      }
      lines.push(
        `modprop       ${version}`,
        `node          ${process.versions.node} (N-API ${process.versions.napi}), ${data.platform}, ${data.cpus} CPUs`,
      );
      process.stdout.write(lines.join('\n') + '\n');
    });
}
