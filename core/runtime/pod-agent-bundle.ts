/** The pod agent as one plain JavaScript file (see node-bundle.ts): pods start it with plain `node`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFile, type BundleSpec } from './node-bundle.ts';

const AGENT_DIR = fileURLToPath(new URL('../../runtime-image/agent/', import.meta.url));
const CORE_DIR = fileURLToPath(new URL('../', import.meta.url));

const AGENT: BundleSpec = {
  main: path.join(AGENT_DIR, 'main.ts'),
  // The agent imports a few pure modules of core/ (RFB messages, the egress policy).
  sourceDirs: [AGENT_DIR, path.join(CORE_DIR, 'domain'), path.join(CORE_DIR, 'security')],
  name: 'pod-agent',
};

/** The checked agent bundle in `bundleDir` (`<dataDir>/bundles`). */
export function podAgentBundle(bundleDir: string): string {
  return bundleFile(AGENT, bundleDir);
}
