#!/usr/bin/env node
/**
 * `ioc-stream` command line. Each command lives in its own module and is loaded on demand.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError, describeError, InterruptedError } from '../shared/core/errors.js';
import { redact } from '../shared/core/redact.js';
import type { CliCommand, CliContext } from './context.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  sync: {
    summary: 'fetch new notifications and import them (standalone, inline)',
    load: async () => (await import('./sync_command.js')).syncCommand,
  },
  parser: {
    summary: 'validate custom_parser/ against the SecOps parser API (parser validate [--update])',
    load: async () => (await import('./parser_command.js')).parserCommand,
  },
  dashboard: {
    summary: 'the SecOps native dashboard for IOC Stream results: export (print / --out FILE) or import',
    load: async () => (await import('./dashboard_command.js')).dashboardCommand,
  },
  dlq: {
    summary: 'dead-lettered chunks: list, replay (to the chunks topic or Chronicle), purge with an archive',
    load: async () => (await import('./dlq_command.js')).dlqCommand,
  },
  dev: {
    summary: 'run the cloud pipeline locally: emulators, both functions, topics wired as terraform',
    load: async () => (await import('./dev_command.js')).devCommand,
  },
  trigger: {
    summary: 'publish one fetch trigger (--filter, --start for a backfill) to PUBSUB_TRIGGER_TOPIC',
    load: async () => (await import('./trigger_command.js')).triggerCommand,
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: ioc-stream <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "ioc-stream <command> --help" for a command's options.`;
}

export async function main(argv: readonly string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    ctx.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    ctx.stderr.write(`ioc-stream: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await command.load())(rest, ctx);
  } catch (error) {
    if (error instanceof ConfigError) {
      ctx.stderr.write(`ioc-stream ${name}: ${redact(error.message)}\n`);
      return 2;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      ctx.stderr.write(`ioc-stream ${name}: ${(error as Error).message}\n`);
      return 2;
    }
    ctx.stderr.write(`ioc-stream ${name}: failed: ${redact(describeError(error)).split('\n')[0]}\n`);
    return 1;
  }
}

const invoked = process.argv[1];
const isEntry = invoked !== undefined && import.meta.url === pathToFileURL(realpathSync(invoked)).href;
if (isEntry) {
  const controller = new AbortController();
  let interrupts = 0;
  const stop = (signal: 'SIGINT' | 'SIGTERM') => {
    interrupts += 1;
    if (interrupts > 1) process.exit(new InterruptedError(signal).exitCode);
    controller.abort(new InterruptedError(signal));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const code = await main(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  });
  process.exitCode = code;
  // A stopped command has said what it did; a request it gave up on must not keep the process alive.
  if (controller.signal.aborted) process.exit(code);
}
