/**
 * The double's "kubelet": runs every Pod created through the double as a real pod agent + Chromium,
 * with the local driver's machinery under a temp dir. All agents share 127.0.0.1, so each Pod gets
 * `status.podIP: 127.0.0.1` and its agent's port in the `ventus.io/agent-port` annotation.
 *
 * Status follows a real kubelet's: Pending (ContainerCreating) → Running and Ready only once CDP
 * answers → Failed when the agent exits (restartPolicy Never). Deleting a Pod sends SIGTERM to the
 * agent alone (PID 1 of a container), SIGKILL to what is left after the grace period.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalDriver } from '../../../core/runtime/local.driver.ts';
import { podProcessTree, stopPodProcesses } from '../../../core/runtime/pod-processes.util.ts';
import { readPodRecord } from '../../../core/runtime/pod.store.ts';
import type { K8sApiDouble } from './api-double.server.ts';
import type { KubeObject } from './object-store.ts';

const AGENT_PORT_ANNOTATION = 'ventus.io/agent-port';

interface Running {
  abort: AbortController;
  starting: Promise<void>;
  monitor?: NodeJS.Timeout;
}

type Container = { name: string; env?: { name: string; value?: string }[] };

export class FakeKubelet {
  private readonly running = new Map<string, Running>();
  private readonly local: LocalDriver;
  private readonly off: () => void;

  private constructor(
    private readonly double: K8sApiDouble,
    readonly stateDir: string,
  ) {
    this.local = new LocalDriver({ stateDir });
    double.terminator = (ns, pod, grace) => this.terminate(ns, pod, grace);
    this.off = double.store.subscribe((e) => {
      if (e.resource === 'pods' && e.type === 'ADDED') this.run(e.namespace, e.object);
    });
  }

  static async start(double: K8sApiDouble): Promise<FakeKubelet> {
    return new FakeKubelet(double, await mkdtemp(join(tmpdir(), 'ventus-kubelet-')));
  }

  /** The directory of a Pod's agent (its processes carry it; see test/runtime/local.harness.ts). */
  podDir(name: string): string {
    return join(this.stateDir, name);
  }

  async close(): Promise<void> {
    this.off();
    await Promise.all([...this.running.keys()].map((k) => this.stop(k, 0)));
    await this.local.close();
    await rm(this.stateDir, { recursive: true, force: true });
  }

  private setStatus(ns: string, name: string, mutate: (o: KubeObject) => void): void {
    this.double.store.modify('pods', ns, name, mutate);
  }

  private run(ns: string, pod: KubeObject): void {
    const name = pod.metadata.name;
    const container = (pod.spec?.containers as Container[])[0]!;
    const headless = container.env?.find((e) => e.name === 'HEADLESS')?.value !== 'false';
    const entry: Running = { abort: new AbortController(), starting: Promise.resolve() };
    this.running.set(`${ns}/${name}`, entry);
    const image = (pod.spec?.containers as { image: string }[])[0]!.image;
    const imageID = `docker.io/${image}@sha256:${'0'.repeat(64)}`;
    const waiting = {
      name: container.name,
      image,
      imageID: '',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    };
    this.setStatus(ns, name, (o) => {
      o.status = {
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
        ],
        containerStatuses: [waiting],
      };
    });
    entry.starting = (async () => {
      try {
        const local = await this.local.createPod({ id: name, pool: 'kubelet', headless }, entry.abort.signal);
        // Ready only once CDP answers (what the Pod's readiness probe checks).
        while (!(await answers(`${local.controlUrl}/json/version`)))
          await sleep(50, undefined, { signal: entry.abort.signal });
        const startedAt = new Date().toISOString();
        this.setStatus(ns, name, (o) => {
          o.metadata.annotations = {
            ...o.metadata.annotations,
            [AGENT_PORT_ANNOTATION]: new URL(local.controlUrl).port,
          };
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
                image,
                imageID,
                ready: true,
                restartCount: 0,
                started: true,
                state: { running: { startedAt } },
              },
            ],
          };
        });
        entry.monitor = setInterval(() => void this.checkAlive(ns, name, container.name), 200);
      } catch (err) {
        if (entry.abort.signal.aborted) return;
        const message = err instanceof Error ? err.message.slice(0, 500) : String(err);
        this.setStatus(ns, name, (o) => this.markFailed(o, container.name, 'StartError', 128, message));
      }
    })();
  }

  private async checkAlive(ns: string, name: string, containerName: string): Promise<void> {
    const entry = this.running.get(`${ns}/${name}`);
    if (!entry?.monitor || entry.abort.signal.aborted) return;
    const status = await this.local.getPod(name);
    if (status?.alive || entry.abort.signal.aborted) return;
    clearInterval(entry.monitor);
    entry.monitor = undefined;
    this.setStatus(ns, name, (o) => this.markFailed(o, containerName, 'Error', 1, undefined));
  }

  private markFailed(
    o: KubeObject,
    container: string,
    reason: string,
    exitCode: number,
    message?: string,
  ): void {
    const finishedAt = new Date().toISOString();
    o.status = {
      ...o.status,
      phase: 'Failed',
      ...(message && { message }),
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'PodFailed' },
      ],
      containerStatuses: [
        {
          ...((o.status?.containerStatuses as object[] | undefined)?.[0] ?? {
            name: container,
            image: '',
            imageID: '',
          }),
          ready: false,
          state: { terminated: { reason, exitCode, finishedAt } },
        },
      ],
    };
  }

  private async terminate(ns: string, pod: KubeObject, graceSeconds: number): Promise<void> {
    await this.stop(`${ns}/${pod.metadata.name}`, graceSeconds);
  }

  private async stop(key: string, graceSeconds: number): Promise<void> {
    const entry = this.running.get(key);
    const name = key.slice(key.indexOf('/') + 1);
    if (entry) {
      entry.abort.abort();
      clearInterval(entry.monitor);
      await entry.starting;
      this.running.delete(key);
    }
    const dir = this.podDir(name);
    const record = await readPodRecord(dir);
    if (record?.pid) {
      try {
        process.kill(record.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const deadline = Date.now() + graceSeconds * 1000;
      while (Date.now() < deadline && podProcessTree(dir).length > 0) await sleep(50);
      await stopPodProcesses(dir, record.pid, 100);
    }
    await this.local.deletePod(name);
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
