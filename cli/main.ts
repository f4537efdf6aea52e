#!/usr/bin/env node
/**
 * `ioc-stream` command line. Each command lives in its own module and is loaded on demand.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError, describeError, InterruptedError } from '../shared/core/errors.js';
import { redact } from '../shared/core/redact.js';
import type { CliCommand, CliContext } from './context.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  sync: {
    summary: 'fetch new notifications and import them (standalone, inline)',
    load: async () => (await import('./sync_command.js')).syncCommand,
  },
  doctor: {
    summary: 'check the setup before the schedule runs: configuration, GTI key, log type, parser, cloud',
    load: async () => (await import('./doctor_command.js')).doctorCommand,
  },
  parser: {
    summary: 'custom_parser/ in SecOps: parser validate [--update [--yes]] | parser install [--dry-run]',
    load: async () => (await import('./parser_command.js')).parserCommand,
  },
  dashboard: {
    summary: 'the SecOps native dashboard for IOC Stream results: export (print / --out FILE) or import',
    load: async () => (await import('./dashboard_command.js')).dashboardCommand,
  },
  rules: {
    summary: 'rules export [--out DIR]: the YARA-L rules for the configured log type',
    load: async () => (await import('./rules_command.js')).rulesCommand,
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
  version: {
    summary: 'print the version (also --version)',
    load: async () => async (_argv, ctx) => {
      ctx.stdout.write(`ioc-stream ${packageVersion()}\n`);
      return 0;
    },
  },
};

/** The version in package.json (dist/cli/main.js → ../../package.json). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}

/** Longest error text the CLI prints for an unexpected failure (a library may put pages in one). */
const ERROR_LINE_MAX = 400;

/** One line of an error for the terminal: first line, secrets redacted, bounded. */
export function errorLine(error: unknown): string {
  const line = redact(describeError(error)).split('\n')[0] ?? '';
  return line.length > ERROR_LINE_MAX ? `${line.slice(0, ERROR_LINE_MAX)}… (cut)` : line;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: ioc-stream <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "ioc-stream <command> --help" for a command's options.`;
}

export async function main(argv: readonly string[], ctx: CliContext): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    ctx.stdout.write(`${usage()}\n`);
    return first === undefined ? 2 : 0;
  }
  const name = first === '--version' || first === '-v' ? 'version' : first;
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
    const line = errorLine(error);
    reported.add(line);
    ctx.stderr.write(`ioc-stream ${name}: failed: ${line}\n`);
    return 1;
  }
}

/** Failures main() already printed (the entry's last-resort handler then adds nothing). */
const reported = new Set<string>();

/**
 * google-auth-library probes the GCE metadata server when it finds no credentials file, and warns
 * (MetadataLookupWarning) when the probe fails in an unexpected way: noise on a laptop, where the
 * command reports missing credentials itself. Every other warning prints as Node prints it.
 */
export function quietMetadataLookupWarnings(target: NodeJS.Process = process): void {
  const printers = target.listeners('warning');
  target.removeAllListeners('warning');
  target.on('warning', (warning) => {
    if (warning.name === 'MetadataLookupWarning') return;
    for (const print of printers) print.call(target, warning);
  });
}

const invoked = process.argv[1];
const isEntry = invoked !== undefined && import.meta.url === pathToFileURL(realpathSync(invoked)).href;
if (isEntry) {
  quietMetadataLookupWarnings();
  // Last resort for a rejection a library leaves behind (google-gax does when credentials are
  // missing, after the command already failed on the same cause): one line, exit 1, no stack
  // trace; nothing more once the command has reported its failure.
  process.on('unhandledRejection', (error) => {
    if (reported.size === 0) process.stderr.write(`ioc-stream: ${errorLine(error)}\n`);
    if (!process.exitCode) process.exitCode = 1;
  });
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
