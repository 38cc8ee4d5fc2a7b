/** The pod launcher (launcher.main.ts) as one plain JavaScript file (see ../node-bundle.ts). */
import { fileURLToPath } from 'node:url';
import { checkedBundle, type BundleSpec } from '../node-bundle.ts';

const LAUNCHER: BundleSpec = {
  main: fileURLToPath(new URL('./launcher.main.ts', import.meta.url)),
  // It imports how a pod's processes are found and stopped (../pod-processes.util.ts, ../../process/).
  sourceDirs: [
    fileURLToPath(new URL('./', import.meta.url)),
    fileURLToPath(new URL('../', import.meta.url)),
    fileURLToPath(new URL('../../process/', import.meta.url)),
  ],
  name: 'pod-launcher',
};
/** `npm run build`'s copy (scripts/build.mjs), for where the sources are not. */
const PREBUILT = fileURLToPath(new URL('../../../dist/pod-launcher.mjs', import.meta.url));

/** The checked launcher bundle in `bundleDir`. */
export const podLauncherBundle = (bundleDir: string): string => checkedBundle(LAUNCHER, PREBUILT, bundleDir);
