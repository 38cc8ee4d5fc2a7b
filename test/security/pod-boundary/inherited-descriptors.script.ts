/**
 * The driver's side of attack 8 (inherited-descriptors.test.ts), run as a process of its own that
 * holds a planted socket (Node passes extra stdio as a socket pair) on fd PLANTED_FD without
 * close-on-exec, as a careless parent would leave one. It starts a pod (full Chromium: the headless
 * shell renders no file:// listings), then attacks as the tenant, from the pod's browser:
 * - CDP: a file:// tab on /proc/self/fd/, the descriptors the browser process holds (a file:// load
 *   is the browser process's own read);
 * - page JavaScript: that file:// document fetching the same listing.
 * Prints one JSON line: what the planted descriptor is, and what each attempt read.
 *
 *   node --import tsx test/security/pod-boundary/inherited-descriptors.script.ts <stateDir>
 */
import { readlinkSync } from 'node:fs';
import { agentWebSocket } from '../../../core/runtime/agent.client.ts';
import { testAgentAccess } from '../../support/agent-access.ts';
import { testLocalDriver } from '../../support/local-driver.ts';
import { AttackerCdp } from './attacker-cdp.client.ts';

/** As in inherited-descriptors.test.ts: far above the ~150 descriptors a browser holds. */
const PLANTED_FD = 900;

const planted = readlinkSync(`/proc/self/fd/${PLANTED_FD}`);
const driver = testLocalDriver(process.argv[2]!, { chromiumPath: '/usr/bin/chromium' });
const pod = await driver.createPod({ id: `descriptors-${process.pid}`, pool: 'p1', headless: true });
let cdp: AttackerCdp | undefined;
try {
  const { url, headers } = agentWebSocket(testAgentAccess, pod, '/devtools/browser');
  cdp = await AttackerCdp.connect(url, headers);
  const [listing] = await cdp.readInTabs(['file:///proc/self/fd/']);
  const page = await cdp.openPage();
  await page.navigate('file:///proc/self/fd/');
  const fetched = await page.evaluate<string>(
    "fetch('file:///proc/self/fd/').then((r) => r.text(), (e) => 'refused: ' + e.message)",
  );
  process.stdout.write(`${JSON.stringify({ planted, listing, fetched })}\n`);
} finally {
  cdp?.close();
  await driver.deletePod(pod.id);
  await driver.removeSandboxBase();
  await driver.close();
}
