/**
 * The `sim` runtime driver: pods are simulated by one shared sim runtime server per state dir
 * (load-tests/sim-runtime/, started by sim-server.launcher.ts), become ready after a configurable
 * delay and answer a minimal CDP. Only for load tests of the control plane at rates real Chrome
 * cannot reach on one machine; never the default.
 *
 * Like the local driver's state dir, the server is the shared state: every process (broker, workers,
 * pool controller) and every restarted one that opens the same state dir sees the same pods. The
 * first createPod starts the server if none runs; reads never start one (no server, no pods).
 */
import { assertRunsKind } from '../runtime-kinds.ts';
import { resolve } from 'node:path';
import { postSessionConfig } from '../pod-control.client.ts';
import { randomBytes } from 'node:crypto';
import { agentAnswersOk, PodAgentAccess } from '../agent.client.ts';
import { PodCreations } from '../pod-creations.ts';
import type { Pod, PodSessionConfig, PodSpec, PodStatus, RestoredCounts, RuntimeDriver } from '../driver.ts';
import { isValidPodId } from '../pod.store.ts';
import { SimAdminClient, type AdminAnswer } from './sim-admin.client.ts';
import type { SimServer } from './sim-server.launcher.ts';
import {
  MAX_READY_MS,
  isSimPodRecord,
  podBasePath,
  podBrowserPath,
  type SimFault,
  type SimPodRecord,
} from './sim.protocol.ts';

export interface SimDriverOptions {
  /** The control plane's key to the pods' agents; default: a random one (sim pods check nothing). */
  agentAccess?: PodAgentAccess;
  /** Where the shared server is recorded: `<stateDir>/{server.json,server.lock,server.log}`. */
  stateDir: string;
  /** How long a new pod takes to become ready (ms); default 50. */
  readyMs?: number;
  /** How long createPod may take beyond readyMs (a server start included); default 30 s. */
  startTimeoutMs?: number;
}

export class SimDriver implements RuntimeDriver {
  readonly kind = 'sim' as const;
  readonly stateDir: string;
  private readonly readyMs: number;
  private readonly startTimeoutMs: number;
  private readonly admin: SimAdminClient;
  private readonly creations = new PodCreations();

  private readonly agentAccess: PodAgentAccess;

  constructor(options: SimDriverOptions) {
    this.agentAccess = options.agentAccess ?? new PodAgentAccess(randomBytes(32).toString('base64url'));
    this.stateDir = resolve(options.stateDir);
    this.readyMs = Math.min(Math.max(0, Math.round(options.readyMs ?? 50)), MAX_READY_MS);
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.admin = new SimAdminClient(this.stateDir, this.startTimeoutMs);
  }

  async createPod(spec: PodSpec, signal?: AbortSignal): Promise<Pod> {
    return this.creations.run(signal, (aborted) => this.create(spec, aborted));
  }

  private async create(spec: PodSpec, signal: AbortSignal): Promise<Pod> {
    assertRunsKind(this.kind, spec.runtimeKind);
    if (!isValidPodId(spec.id))
      throw new Error(`invalid pod id ${JSON.stringify(spec.id)}: use [A-Za-z0-9._-], at most 128`);
    signal.throwIfAborted();
    const body = JSON.stringify({
      id: spec.id,
      pool: spec.pool,
      headless: spec.headless,
      readyMs: this.readyMs,
    });
    const timeout = AbortSignal.timeout(this.readyMs + this.startTimeoutMs);
    let answered: AdminAnswer;
    try {
      answered = await this.admin.request(
        '/admin/pods',
        { method: 'POST', body, signal: AbortSignal.any([signal, timeout]) },
        true,
      );
    } catch (err) {
      // The server deletes a pod whose creator hangs up; deleting here too makes it certain before we
      // return (and covers a request that never reached it).
      await this.deletePod(spec.id).catch(() => undefined);
      if (signal.aborted) throw signal.reason;
      const reason = timeout.aborted
        ? `not ready within ${this.readyMs + this.startTimeoutMs} ms`
        : String(err);
      throw new Error(`pod ${spec.id} failed to start: ${reason}`, { cause: err });
    }
    const { res, server } = answered;
    const answer: unknown = await res.json().catch(() => undefined);
    if (res.status === 409) throw new Error(`pod ${spec.id} already exists`);
    if (res.status !== 201 || !isSimPodRecord(answer)) {
      await this.deletePod(spec.id).catch(() => undefined);
      throw new Error(`pod ${spec.id} failed to start: ${res.status} ${JSON.stringify(answer)}`);
    }
    return this.toPod(server, answer);
  }

  async listPods(): Promise<PodStatus[]> {
    const answered = await this.admin.request('/admin/pods', {}, false);
    if (!answered) return [];
    return (await podRecords(answered))
      .filter((p) => p.state !== 'starting')
      .map((p) => this.toStatus(answered.server, p))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async getPod(id: string): Promise<PodStatus | undefined> {
    if (!isValidPodId(id)) return undefined;
    const answered = await this.admin.request(`/admin/pods/${id}`, {}, false);
    if (!answered || answered.res.status === 404) {
      await answered?.res.body?.cancel();
      return undefined;
    }
    if (!answered.res.ok) throw await failure(answered, `GET pod ${id}`);
    const record: unknown = await answered.res.json();
    // Still starting (maybe in another process): not a pod yet, as with the local driver.
    return isSimPodRecord(record) && record.state !== 'starting'
      ? this.toStatus(answered.server, record)
      : undefined;
  }

  async isHealthy(pod: Pod): Promise<boolean> {
    return agentAnswersOk(this.agentAccess, pod, '/json/version');
  }

  configureSession(pod: Pod, config: PodSessionConfig): Promise<RestoredCounts | undefined> {
    return postSessionConfig(this.agentAccess, pod, config);
  }

  async deletePod(id: string): Promise<void> {
    if (!isValidPodId(id)) return;
    const answered = await this.admin.request(`/admin/pods/${id}`, { method: 'DELETE' }, false);
    if (answered && !answered.res.ok) throw await failure(answered, `DELETE pod ${id}`);
    await answered?.res.body?.cancel();
  }

  /** Fault injection for tests: kill the pod (as a crash would) or stall it (a wedged browser). */
  async injectFault(id: string, fault: SimFault): Promise<void> {
    const answered = await this.admin.request(`/admin/pods/${id}/${fault}`, { method: 'POST' }, false);
    await answered?.res.body?.cancel();
    if (answered?.res.status !== 204) throw new Error(`pod ${id}: no such pod to ${fault}`);
  }

  /** Every pod the server holds, those still starting included (listPods hides them). */
  async serverPods(): Promise<SimPodRecord[]> {
    const answered = await this.admin.request('/admin/pods', {}, false);
    if (!answered) return [];
    return podRecords(answered);
  }

  /** Pods outlive the driver (they live in the server); creations in flight are aborted and removed. */
  async close(): Promise<void> {
    await this.creations.abortAll(new Error('driver closed'));
  }

  private toPod(server: SimServer, record: SimPodRecord): Pod {
    const wsBase = server.baseUrl.replace(/^http/, 'ws');
    return {
      id: record.id,
      pool: record.pool,
      cdpUrl: `${wsBase}${podBrowserPath(record.id)}`,
      controlUrl: `${server.baseUrl}${podBasePath(record.id)}`,
      createdAt: new Date(record.createdAt),
    };
  }

  private toStatus(server: SimServer, record: SimPodRecord): PodStatus {
    return { ...this.toPod(server, record), alive: record.state !== 'killed' };
  }
}

async function failure({ res }: AdminAnswer, what: string): Promise<Error> {
  const body = await res.text().catch(() => '');
  return new Error(`sim runtime server: ${what} answered ${res.status} ${body}`.trim());
}

async function podRecords(answered: AdminAnswer): Promise<SimPodRecord[]> {
  if (!answered.res.ok) throw await failure(answered, 'GET pods');
  const { pods } = (await answered.res.json()) as { pods?: unknown };
  return Array.isArray(pods) ? pods.filter(isSimPodRecord) : [];
}
