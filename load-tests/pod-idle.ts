/**
 * What a warm pod costs in CPU while it waits, and what one health probe of it costs: `--pods` local
 * pods started with the local driver, then, per pod and second,
 *   1. idle: nobody asks anything;
 *   2. probed once a second through the agent (`driver.isHealthy`: the agent's GET /healthz, which
 *      asks Chromium's /json/version over its DevTools bridge), as the pool controller did each pass;
 *   3. the same question put straight to the DevTools bridge (socat + Chromium, no agent): the
 *      agent's own share is the difference.
 * CPU of the pods from a cgroup of this benchmark's own (load-tests/harness/cpu-group.ts: every
 * process counted, orphans included), minus this process's own, which is the prober's. Run as root.
 *
 *   node --import tsx load-tests/pod-idle.ts [--pods 4] [--seconds 15]
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Pod } from '../core/runtime/driver.ts';
import { fetchChromiumVersion } from '../runtime-image/agent/devtools.address.ts';
import { testLocalDriver } from '../test/support/local-driver.ts';
import { CpuGroup } from './harness/cpu-group.ts';

const { values } = parseArgs({
  options: { pods: { type: 'string', default: '4' }, seconds: { type: 'string', default: '15' } },
});
const PODS = Number(values.pods);
const SECONDS = Number(values.seconds);
if (!(PODS > 0 && SECONDS > 0)) throw new Error('--pods and --seconds: numbers above 0');

const group = CpuGroup.open('ventus-pod-idle');
if (!group) throw new Error('no writable cgroup v2: run as root');
group.keep();
const selfSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const podsSeconds = () => group.childrenUs() / 1e6;

/** The DevTools bridge socket in a pod's root (the agent's end of socat). */
function devtoolsSocket(root: string): string {
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'devtools.sock') return path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'user-data') stack.push(path.join(dir, entry.name));
    }
  }
  throw new Error(`no devtools.sock under ${root}`);
}

/** CPU-ms per pod per second over `SECONDS`, asking each pod `ask` once a second (or nothing). */
async function perPodPerSecond(
  ask?: (i: number) => Promise<unknown>,
): Promise<{ pods: number; prober: number }> {
  const pods0 = podsSeconds();
  const self0 = selfSeconds();
  for (let t = 0; t < SECONDS; t++) {
    const tick = sleep(1_000);
    if (ask) await Promise.all(Array.from({ length: PODS }, (_, i) => ask(i)));
    await tick;
  }
  const per = (v: number) => (v / SECONDS / PODS) * 1000;
  return { pods: per(podsSeconds() - pods0), prober: per(selfSeconds() - self0) };
}

const stateDir = await mkdtemp(path.join(os.tmpdir(), 'ventus-pod-idle-'));
const driver = testLocalDriver(stateDir);
try {
  const pods: Pod[] = [];
  for (let i = 0; i < PODS; i++) {
    pods.push(
      await driver.createPod({ id: `idle${i}${Date.now().toString(36)}`, pool: 'idle', headless: true }),
    );
  }
  await sleep(3_000); // settled
  const sockets = pods.map((p) => devtoolsSocket(driver.rootOf(p.id)));
  const idle = await perPodPerSecond();
  const probed = await perPodPerSecond((i) => driver.isHealthy(pods[i]!));
  const direct = await perPodPerSecond((i) => fetchChromiumVersion({ socketPath: sockets[i]! }, 1_000));
  const f = (v: number) => `${v.toFixed(1)} ms`;
  process.stdout.write(
    [
      `${PODS} warm headless pods, ${SECONDS} s each, CPU per pod per second:`,
      `- idle: ${f(idle.pods)}`,
      `- probed through the agent once a second: ${f(probed.pods)} in the pod (one probe ≈ ${f(probed.pods - idle.pods)}), ${f(probed.prober)} in the prober`,
      `- the same question straight to the DevTools bridge: ${f(direct.pods)} in the pod (≈ ${f(direct.pods - idle.pods)} a question: socat's fork and Chromium; the agent's share ≈ ${f(probed.pods - direct.pods)})`,
      '',
    ].join('\n'),
  );
  for (const pod of pods) await driver.deletePod(pod.id);
} finally {
  await driver.close();
  await driver.removeSandboxBase(); // as root: the pods' base and its copy of the agent bundle
  await group.close();
  await rm(stateDir, { recursive: true, force: true });
}
process.exit(0);
