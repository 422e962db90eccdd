#!/usr/bin/env node
/**
 * `modprop`, the command line (SPEC §6): train, compare, align, taps, info. Each command lives in lib/cli/.
 *
 * Exit codes: 0 success; 1 an error (printed as `modprop: <message>`, no stack trace for the library's own errors);
 * 2 a usage error (unknown option, bad value, options that do not go together); 130 interrupted (Ctrl-C) or 143 (SIGTERM), after the
 * outputs were written with what was done so far.
 */
import { Command, CommanderError } from 'commander';
import { version } from './index';
import { alignCommand } from './cli/align';
import { UsageError, withFlagNames } from './cli/common';
import { compareCommand } from './cli/compare';
import { infoCommand } from './cli/info';
import { mergeCommand, resumeCommand } from './cli/study';
import { reportCommand } from './cli/report';
import { tapsCommand } from './cli/taps';
import { trainCommand } from './cli/train';

export function program(): Command {
  const root = new Command('modprop')
    .description('Train recurrent networks with ModProp, e-prop, MDGL and exact BPTT (C++ kernels, TypeScript API)')
    .version(version, '-V, --version')
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'modprop: ')) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  root.addHelpText('after', `
Examples:
  $ modprop info
  $ modprop train --task delayed-xor --rule modprop --iterations 1000 --out run.json --plot run.svg --anchor
  $ modprop compare --task delayed-xor --rules bptt,modprop,mdgl,eprop --seeds 8 --iterations 1000 --plot compare.svg --table compare.md
  $ modprop align --delay 100 --n-rec 60
  $ modprop taps --mu 0.25 --length 200 --plot taps.svg

Run 'modprop <command> --help' for the options of a command.`);
  for (const cmd of [trainCommand(), compareCommand(), mergeCommand(), resumeCommand(), reportCommand(), alignCommand(), tapsCommand(), infoCommand()]) {
    // Subcommands made with `new Command` do not inherit these from the root; copy them.
    root.addCommand(cmd.copyInheritedSettings(root));
  }
  return root;
}

function fail(message: string, code: number): void {
  process.stderr.write(`modprop: ${message}\n`);
  process.exitCode = code;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  // `modprop … --out - | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the message (or the help) already.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    } else if (err instanceof UsageError) {
      fail(`${err.message}\n(add --help for usage)`, 2);
    } else if ((err as Error).name === 'ModpropError') {
      fail(withFlagNames((err as Error).message), 1);
    } else if (typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).syscall) {
      fail((err as Error).message, 1); // a file that cannot be read or written
    } else {
      fail(`internal error (please report it): ${(err as Error).stack ?? String(err)}`, 1);
    }
  }
}

if (require.main === module) void main();
