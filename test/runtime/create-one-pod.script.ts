/**
 * A process whose only work is one pod: create it, delete it, print "done". Run by
 * pod-launcher.test.ts: while it waits on the launcher alone, its process must not exit under it.
 *
 *   node --import tsx test/runtime/create-one-pod.script.ts <stateDir>
 */
import { testLocalDriver } from '../support/local-driver.ts';

const driver = testLocalDriver(process.argv[2]!);
const pod = await driver.createPod({ id: `one-pod-${process.pid}`, pool: 'p1', headless: true });
await driver.deletePod(pod.id);
await driver.removeSandboxBase();
await driver.close();
process.stdout.write('done\n');
