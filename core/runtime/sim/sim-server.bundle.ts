/**
 * Where the sim runtime server is, and the command that starts it as one plain JavaScript file (see
 * ../node-bundle.ts). The server is a test and load-test tool (load-tests/sim-runtime/), not part of
 * the control plane: it is found by path at run time, never imported, so core/ does not depend on
 * it, and an installed image (which ships without load-tests/) fails with one clear error.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeCommand, type BundleSpec } from '../node-bundle.ts';

const SIM_DIR = fileURLToPath(new URL('./', import.meta.url));
const REPO_ROOT = path.resolve(SIM_DIR, '../../..');

/** The sim runtime server's folder in a checkout of the repository. */
const SIM_SERVER_DIR = path.join(REPO_ROOT, 'load-tests', 'sim-runtime');

/** The sim runtime server's sources are not here: an installed image, without the test tooling. */
export class SimRuntimeNotShippedError extends Error {
  constructor(readonly entry: string) {
    super(
      `the sim runtime (VENTUS_DRIVER=sim) is a test and load-test tool, not shipped with the ` +
        `service: its server (${entry}) is not in this installation. Run it from a checkout of ` +
        `the repository, or set VENTUS_DRIVER=local or kubernetes.`,
    );
    this.name = 'SimRuntimeNotShippedError';
  }
}

/** How to bundle the server; throws SimRuntimeNotShippedError when its sources are absent. */
function simServerSpec(): BundleSpec {
  const main = path.join(SIM_SERVER_DIR, 'main.ts');
  if (!existsSync(main)) throw new SimRuntimeNotShippedError(main);
  return {
    main,
    // The server imports from these too: the protocol and state file it shares with the driver
    // (this folder), pod ids and driver types (core/runtime), the session-config parser (the agent).
    sourceDirs: [
      SIM_SERVER_DIR,
      SIM_DIR,
      path.dirname(SIM_DIR),
      path.join(REPO_ROOT, 'runtime-image', 'agent'),
    ],
    name: 'sim-runtime',
  };
}

/** `[node, ...args]` that start a sim runtime server (configured through its environment). */
export const simServerCommand = (bundleDir: string): [string, ...string[]] =>
  nodeCommand(simServerSpec(), bundleDir);
