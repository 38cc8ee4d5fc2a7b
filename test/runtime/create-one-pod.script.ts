/**
 * A process whose only work is one pod, run by pod-launcher.test.ts with an extra socket on a high fd (a
 * descriptor it inherits without close-on-exec, as from a careless parent): create the pod, report
 * which of this process's inheritable descriptors any process of the pod holds, delete the pod.
 * While it waits on the launcher alone, its process must not exit under it.
 *
 *   node --import tsx test/runtime/create-one-pod.script.ts <stateDir>
 *   prints {"inheritable": [{fd, target}…], "leaked": ["pid: target" a pod process holds…]}
 */
import { join } from 'node:path';
import { inheritableDescriptors } from '../../core/runtime/pod-launcher/inherited-descriptors.ts';
import { testLocalDriver } from '../support/local-driver.ts';
import { openFiles, podProcesses } from './local.harness.ts';

const inheritable = new Set(inheritableDescriptors());
const mine = openFiles(process.pid).filter(({ fd }) => inheritable.has(fd));

const stateDir = process.argv[2]!;
const driver = testLocalDriver(stateDir);
const pod = await driver.createPod({ id: `one-pod-${process.pid}`, pool: 'p1', headless: true });
const targets = new Set(mine.map((f) => f.target));
const leaked = podProcesses(join(stateDir, pod.id)).flatMap((pid) =>
  openFiles(pid)
    .filter((f) => targets.has(f.target))
    .map((f) => `${pid}: ${f.target}`),
);
await driver.deletePod(pod.id);
await driver.removeSandboxBase();
await driver.close();
process.stdout.write(`${JSON.stringify({ inheritable: mine, leaked })}\n`);
