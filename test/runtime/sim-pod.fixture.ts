/**
 * A second OS process for the sim driver tests (see createPodInAnotherProcess in sim.harness.ts):
 * `node --import tsx sim-pod.fixture.ts <stateDir> <podId>` creates the pod through its own SimDriver
 * (starting the shared server if none runs), prints `{pod, serverPid}` and exits, leaving the pod.
 */
import { SimDriver } from '../../core/runtime/sim/sim.driver.ts';
import { readSimServerState } from '../../core/runtime/sim/sim-server.state.ts';

const [stateDir, id] = process.argv.slice(2);
if (!stateDir || !id) throw new Error('usage: sim-pod.fixture.ts <stateDir> <podId>');
const driver = new SimDriver({ stateDir, readyMs: 50 });
const pod = await driver.createPod({ id, pool: 'other-process', headless: true });
await driver.close();
const state = await readSimServerState(stateDir);
process.stdout.write(JSON.stringify({ pod, serverPid: state?.pid }) + '\n', () => process.exit(0));
