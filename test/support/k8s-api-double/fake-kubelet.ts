/**
 * The double's "kubelet": runs every Pod created through the double the way the runtime image runs
 * it, runtime-image/entrypoint.sh starting the bundled pod agent and real Chromium, with the
 * container's environment resolved as a kubelet resolves it (container-env.ts): the Pod's own values
 * and `secretKeyRef`s read from the Secret in the API, so the agent's secret is whatever the Pod's
 * Secret holds. A Pod whose Secret is missing stays Pending in CreateContainerConfigError (retried).
 *
 * What differs from a cluster, because every "container" shares this host: the agent listens on
 * 127.0.0.1 on a free port (AGENT_HOST, AGENT_PORT and DEVTOOLS_PORT are overridden), reported as `status.podIP:
 * 127.0.0.1` and the `ventus.io/agent-port` annotation; mounts are directories under the pod's dir.
 *
 * Status follows a real kubelet's: Pending (ContainerCreating) → Running and Ready once the
 * container's startup probe (else its readiness probe) passes, run as declared (probe.runner.ts) →
 * Failed or Succeeded when the container exits (restartPolicy Never). Deleting a Pod sends SIGTERM
 * to the container's first process (tini forwards it to the entrypoint), SIGKILL to what is left
 * after the grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { podAgentBundle } from '../../../core/runtime/pod-agent-bundle.ts';
import { kernelRelayProgram } from '../../../core/runtime/kernel-relay.program.ts';
import {
  POD_MARKER_VAR,
  podProcessTree,
  stopPodProcesses,
} from '../../../core/runtime/pod-processes.util.ts';
import type { K8sApiDouble } from './api-double.server.ts';
import { makeMounts, mapPath, resolveEnv, type ContainerSpec } from './container-env.ts';
import type { KubeObject } from './object-store.ts';
import { runProbe } from './probe.runner.ts';

const AGENT_PORT_ANNOTATION = 'ventus.io/agent-port';
const ENTRYPOINT = fileURLToPath(new URL('../../../runtime-image/entrypoint.sh', import.meta.url));
/** How often a waiting kubelet looks again (a missing Secret, a probe that has not passed). */
const RETRY_MS = 100;

interface Running {
  abort: AbortController;
  starting: Promise<void>;
  container?: ChildProcess;
}

export class FakeKubelet {
  private readonly running = new Map<string, Running>();
  private readonly off: () => void;
  private bundle: string | undefined;
  private kernelRelay: Promise<string | undefined> | undefined;

  private constructor(
    private readonly double: K8sApiDouble,
    readonly stateDir: string,
  ) {
    double.terminator = (ns, pod, grace) => this.stop(`${ns}/${pod.metadata.name}`, grace);
    this.off = double.store.subscribe((e) => {
      if (e.resource === 'pods' && e.type === 'ADDED') this.run(e.namespace, e.object);
    });
  }

  static async start(double: K8sApiDouble): Promise<FakeKubelet> {
    return new FakeKubelet(double, await mkdtemp(join(tmpdir(), 'ventus-kubelet-')));
  }

  /** The directory of a Pod's container (its processes carry it; see test/runtime/local.harness.ts). */
  podDir(name: string): string {
    return join(this.stateDir, name);
  }

  async close(): Promise<void> {
    this.off();
    await Promise.all([...this.running.keys()].map((k) => this.stop(k, 0)));
    await rm(this.stateDir, { recursive: true, force: true });
  }

  private setStatus(ns: string, name: string, mutate: (o: KubeObject) => void): void {
    this.double.store.modify('pods', ns, name, mutate);
  }

  private run(ns: string, pod: KubeObject): void {
    const name = pod.metadata.name;
    const container = (pod.spec?.containers as ContainerSpec[])[0]!;
    const entry: Running = { abort: new AbortController(), starting: Promise.resolve() };
    this.running.set(`${ns}/${name}`, entry);
    this.setStatus(ns, name, (o) => (o.status = pending(container, 'ContainerCreating')));
    entry.starting = (async () => {
      const { signal } = entry.abort;
      try {
        const env = await this.awaitEnv(ns, name, container, signal);
        const dir = this.podDir(name);
        const { child, port, containerEnv } = await this.startContainer(dir, container, env, signal);
        entry.container = child;
        child.once('exit', (code) => {
          if (!signal.aborted) this.setStatus(ns, name, (o) => markEnded(o, container, code ?? 137));
        });
        const probe = container.startupProbe ?? container.readinessProbe;
        const target = { env: { ...containerEnv, AGENT_PORT: String(port) }, port };
        while (probe && !(await runProbe(probe, target))) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          await sleep(RETRY_MS, undefined, { signal });
        }
        if (child.exitCode !== null || signal.aborted) return;
        this.setStatus(ns, name, (o) => markReady(o, container, port));
      } catch (err) {
        if (signal.aborted) return;
        const message = err instanceof Error ? err.message.slice(0, 500) : String(err);
        this.setStatus(ns, name, (o) => markEnded(o, container, 128, 'StartError', message));
      }
    })();
  }

  /** The container's environment once every Secret it names exists (a kubelet retries the same way). */
  private async awaitEnv(
    ns: string,
    name: string,
    container: ContainerSpec,
    signal: AbortSignal,
  ): Promise<Record<string, string>> {
    let reported: string | undefined;
    for (;;) {
      const resolved = resolveEnv(this.double.store, ns, container);
      if ('env' in resolved) return resolved.env;
      if (resolved.error !== reported) {
        reported = resolved.error;
        this.setStatus(ns, name, (o) => {
          o.status = pending(container, 'CreateContainerConfigError', resolved.error);
        });
      }
      await sleep(RETRY_MS, undefined, { signal });
    }
  }

  /** Starts the image's entrypoint; resolves with the agent's port from its ready line. */
  private async startContainer(
    dir: string,
    container: ContainerSpec,
    podEnv: Record<string, string>,
    signal: AbortSignal,
  ): Promise<{ child: ChildProcess; port: number; containerEnv: Record<string, string> }> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.bundle ??= podAgentBundle(join(this.stateDir, 'bundles'));
    // The image's /opt/ventus/kernel-relay, compiled here as the build stage does it.
    this.kernelRelay ??= kernelRelayProgram(join(this.stateDir, 'bundles'), () => undefined);
    const kernelRelay = await this.kernelRelay;
    const mounts = makeMounts(dir, container);
    // The runtime image's ENV (runtime-image/Dockerfile), then the Pod's: mounted paths mapped.
    const declared: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: '/home/ventus',
      TMPDIR: '/tmp',
      AGENT_CMD: `${process.execPath} ${this.bundle}`,
      HEADLESS: 'false',
      // No window manager on this machine (the image has openbox).
      WINDOW_MANAGER: '',
      ...(kernelRelay && { KERNEL_RELAY: kernelRelay }),
      ...(process.env.VENTUS_CHROMIUM_PATH && { VENTUS_CHROMIUM_PATH: process.env.VENTUS_CHROMIUM_PATH }),
      ...podEnv,
    };
    const containerEnv = Object.fromEntries(
      Object.entries(declared).map(([k, v]) => [k, mapPath(mounts, v)]),
    );
    const env = {
      ...containerEnv,
      // All "pods" share this host: loopback, and ports of the agent's and Chromium's choosing (in a
      // cluster each Pod's loopback is its own, and its DEVTOOLS_PORT fixed).
      AGENT_HOST: '127.0.0.1',
      AGENT_PORT: '0',
      DEVTOOLS_PORT: '0',
      // How podProcessTree and the harness find the container's processes.
      [POD_MARKER_VAR]: dir,
    };
    const log = openSync(join(dir, 'container.log'), 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(ENTRYPOINT, [], { env, detached: true, stdio: ['ignore', 'pipe', log] });
    } finally {
      closeSync(log);
    }
    const exited = once(child, 'exit');
    const lines = createInterface({ input: child.stdout! });
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => String(line)),
      exited.then(() => undefined),
      once(signal, 'abort').then(() => undefined),
    ]);
    lines.close();
    child.stdout?.resume();
    const port = first ? (JSON.parse(first) as { port?: number }).port : undefined;
    if (!port) {
      const tail = await readFile(join(dir, 'container.log'), 'utf8').catch(() => '');
      throw new Error(`the container did not start: ${tail.slice(-1_000)}`);
    }
    return { child, port, containerEnv: { ...containerEnv, [POD_MARKER_VAR]: dir } };
  }

  private async stop(key: string, graceSeconds: number): Promise<void> {
    const entry = this.running.get(key);
    const dir = this.podDir(key.slice(key.indexOf('/') + 1));
    if (entry) {
      entry.abort.abort();
      await entry.starting;
      this.running.delete(key);
      const child = entry.container;
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const deadline = Date.now() + graceSeconds * 1000;
      while (Date.now() < deadline && podProcessTree(dir).length > 0) await sleep(50);
      await stopPodProcesses(dir, child?.pid, 100);
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function pending(container: ContainerSpec, reason: string, message?: string): Record<string, unknown> {
  return {
    phase: 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
    ],
    containerStatuses: [
      {
        name: container.name,
        image: container.image,
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason, ...(message && { message }) } },
      },
    ],
  };
}

function markReady(o: KubeObject, container: ContainerSpec, port: number): void {
  const startedAt = new Date().toISOString();
  o.metadata.annotations = { ...o.metadata.annotations, [AGENT_PORT_ANNOTATION]: String(port) };
  o.status = {
    phase: 'Running',
    podIP: '127.0.0.1',
    podIPs: [{ ip: '127.0.0.1' }],
    hostIP: '127.0.0.1',
    startTime: startedAt,
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'True' },
    ],
    containerStatuses: [
      {
        name: container.name,
        image: container.image,
        imageID: `docker.io/${container.image}@sha256:${'0'.repeat(64)}`,
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt } },
      },
    ],
  };
}

/** The container ended (restartPolicy Never): Succeeded on exit 0, else Failed. */
function markEnded(
  o: KubeObject,
  container: ContainerSpec,
  exitCode: number,
  reason = exitCode === 0 ? 'Completed' : 'Error',
  message?: string,
): void {
  const previous = (o.status?.containerStatuses as object[] | undefined)?.[0];
  o.status = {
    ...o.status,
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    ...(message && { message }),
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'PodFailed' },
    ],
    containerStatuses: [
      {
        ...(previous ?? { name: container.name, image: container.image, imageID: '' }),
        ready: false,
        state: { terminated: { reason, exitCode, finishedAt: new Date().toISOString() } },
      },
    ],
  };
}
