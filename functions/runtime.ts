/**
 * Per-instance state of a function: configuration loaded once on the first invocation (never at
 * import), and the JSON logger Cloud Logging reads from stdout.
 */
import { type Config, loadConfig, requireSettings } from '../shared/core/config.js';
import { createLogger, type Logger } from '../shared/core/logger.js';

export type FunctionUse = 'cloud-fetcher' | 'cloud-sender';

const configs = new Map<FunctionUse, Config>();

/** Loads and checks the configuration for `use` once per instance; throws ConfigError. */
export function instanceConfig(use: FunctionUse, env: NodeJS.ProcessEnv = process.env): Config {
  let config = configs.get(use);
  if (config === undefined) {
    config = loadConfig(env);
    requireSettings(config, use);
    configs.set(use, config);
  }
  return config;
}

/** The one-line-per-invocation logger: JSON on stdout, at LOG_LEVEL when the config loaded. */
export function functionLogger(config: Config | undefined, name: string): Logger {
  return createLogger({
    level: config?.log.level ?? 'info',
    format: 'json',
    sink: process.stdout,
    fields: { function: name },
  });
}
