/** Picks the runtime driver the configuration names. */
import path from 'node:path';
import type { Config } from '../config/config.ts';
import type { RuntimeDriver } from './driver.ts';
import { LocalDriver, xvfbAvailable } from './local.driver.ts';
import { SimDriver } from './sim/sim.driver.ts';

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
    case 'sim':
      // Load tests only: one shared sim runtime server per data dir hosts every process's pods.
      return new SimDriver({ stateDir: path.resolve(config.dataDir, 'sim'), readyMs: config.simReadyMs });
    case 'kubernetes':
      throw new Error(`VENTUS_DRIVER=${config.driver} is not available in this build yet; use local`);
  }
}
