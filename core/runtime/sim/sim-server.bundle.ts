/** The sim runtime server as one plain JavaScript file (see ../node-bundle.ts). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeCommand } from '../node-bundle.ts';

const SIM_DIR = fileURLToPath(new URL('./', import.meta.url));

/** `[node, ...args]` that start a sim runtime server (configured through its environment). */
export const simServerCommand = (bundleDir: string): [string, ...string[]] =>
  nodeCommand(SIM_SERVER, bundleDir);

const SIM_SERVER = {
  main: path.join(SIM_DIR, 'main.ts'),
  // The server imports from these too (pod ids, the session-config parser).
  sourceDirs: [
    SIM_DIR,
    path.dirname(SIM_DIR),
    fileURLToPath(new URL('../../../runtime-image/agent/', import.meta.url)),
  ],
  name: 'sim-runtime',
};
