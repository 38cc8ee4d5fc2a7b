/** The pod agent as one plain JavaScript file (see node-bundle.ts): pods start it with plain `node`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkedBundle, type BundleSpec } from './node-bundle.ts';

const AGENT_DIR = fileURLToPath(new URL('../../runtime-image/agent/', import.meta.url));
const CORE_DIR = fileURLToPath(new URL('../', import.meta.url));
/** `npm run build`'s copy (scripts/build.mjs), for where the sources are not: the control-plane image. */
const PREBUILT = fileURLToPath(new URL('../../dist/pod-agent.mjs', import.meta.url));

const AGENT: BundleSpec = {
  main: path.join(AGENT_DIR, 'main.ts'),
  // The agent imports a few pure modules of core/ (RFB messages, the egress policy).
  sourceDirs: [AGENT_DIR, path.join(CORE_DIR, 'domain'), path.join(CORE_DIR, 'security')],
  name: 'pod-agent',
};

/**
 * The checked agent bundle in `bundleDir` (`<dataDir>/bundles`): bundled from the sources as they are
 * when they are here (a checkout, built or not), else the one `npm run build` made.
 */
export const podAgentBundle = (bundleDir: string): string => checkedBundle(AGENT, PREBUILT, bundleDir);
