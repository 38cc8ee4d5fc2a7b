/** The pod agent as one plain JavaScript file (see node-bundle.ts): pods start it with plain `node`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeCommand } from './node-bundle.ts';

const AGENT_DIR = fileURLToPath(new URL('./pod-agent/', import.meta.url));

/** `[node, ...args]` that start a pod agent (configured through its environment). */
export const podAgentCommand = nodeCommand({
  main: path.join(AGENT_DIR, 'main.ts'),
  sourceDirs: [AGENT_DIR, path.dirname(AGENT_DIR)],
  name: 'pod-agent',
});
