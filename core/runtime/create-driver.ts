/** Picks the runtime driver the configuration names. */
import path from 'node:path';
import type { Config } from '../config/config.ts';
import type { RuntimeDriver } from './driver.ts';
import { LocalDriver, xvfbAvailable } from './local.driver.ts';

/** Headful on Xvfb when Xvfb is installed (the product is "a real desktop"), headless otherwise. */
export function defaultHeadless(): boolean {
  return !xvfbAvailable();
}

export function createDriver(config: Config): RuntimeDriver {
  switch (config.driver) {
    case 'local':
      return new LocalDriver({
        stateDir: path.resolve(config.dataDir, 'pods'),
        ...(config.chromiumPath !== undefined && { chromiumPath: config.chromiumPath }),
      });
    case 'kubernetes':
    case 'sim':
      throw new Error(`VENTUS_DRIVER=${config.driver} is not available in this build yet; use local`);
  }
}
