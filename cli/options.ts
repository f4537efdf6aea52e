/** What every command shares on its command line: `--config FILE` and `--help`. */
import { type Config, loadConfig } from '../shared/core/config.js';

export const COMMON_OPTIONS = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Loads the configuration from the environment and the optional `--config` file. */
export function commandConfig(env: NodeJS.ProcessEnv, configFile: string | undefined): Config {
  return loadConfig(env, configFile === undefined ? {} : { configFile });
}
