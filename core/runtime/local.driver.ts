/**
 * The `local` runtime driver: each pod is one pod agent (and its Chromium, and headful, its Xvfb) in
 * a sandbox of its own (local-sandbox.ts), recorded under `<stateDir>/<podId>/`. The agent listens on
 * a unix socket in the pod's directory, never on a TCP port, and opens only for the pod's secret.
 *
 * Pods deliberately outlive the driver object and the process that created them: the state
 * directory is the source of truth, so another process or a restarted one lists, probes and
 * deletes the same pods.
 */
import { assertRunsKind } from './runtime-kinds.ts';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path, { join, resolve } from 'node:path';
import { postSessionConfig } from './pod-control.client.ts';
import { agentAnswersOk, type PodAgentAccess } from './agent.client.ts';
import { PodCreations } from './pod-creations.ts';
import { LauncherDiedError, PodLauncher, type LaunchedPod } from './pod-launcher/pod-launcher.ts';
import type { Pod, PodSessionConfig, PodSpec, PodStatus, RestoredCounts, RuntimeDriver } from './driver.ts';
import { podAgentBundle } from './pod-agent-bundle.ts';
import { kernelRelayProgram } from './kernel-relay.program.ts';
import { POD_MARKER_VAR, isPodProcessAlive, stopPodProcesses } from './pod-processes.util.ts';
import { IN_POD, podRootOf, preparePodSandbox, sandboxUnavailable } from './local-sandbox.ts';
import {
  isValidPodId,
  listPodIds,
  podDirOf,
  readPodRecord,
  writePodRecord,
  type PodRecord,
} from './pod.store.ts';
import {
  AGENT_SECRET_ENV,
  agentCdpUrl,
  agentControlUrl,
  type AgentReadyLine,
} from '../../runtime-image/agent/protocol.ts';
import type { EgressPolicy } from '../security/egress-policy.ts';

export { resolveChromium, xvfbAvailable } from '../../runtime-image/agent/chromium.resolver.ts';

export interface LocalDriverOptions {
  /** Where pods live: `<stateDir>/<podId>/{pod.json,agent.log,root/}`. */
  stateDir: string;
  /** The control plane's key to the agents: each pod gets its own secret. */
  agentAccess: PodAgentAccess;
  /** What pages may reach (VENTUS_EGRESS_ALLOW, VENTUS_ALLOW_PRIVATE_TARGETS). */
  egress: EgressPolicy;
  /** Browser executable for every pod; default: resolveChromium() inside the agent. */
  chromiumPath?: string;
  /** Where agent bundles are kept (0700); default `<stateDir>/../bundles`. */
  bundleDir?: string;
  /**
   * As root only: where pods' own directories live (each 0700, owned by the pod's uid); must be
   * traversable by any uid. Default `/var/lib/ventus/pods/<hash of stateDir>`.
   */
  rootBase?: string;
  /** How long createPod waits for the agent's ready line; default 20 s. */
  readyTimeoutMs?: number;
  /** The niceness of every process of a pod (VENTUS_POD_NICENESS); default DEFAULT_POD_NICENESS. */
  niceness?: number;
  /**
   * false (VENTUS_KERNEL_RELAY=false): agents relay CDP bytes themselves. Default: each agent hands
   * checked connections to a kernel relay in its pod (runtime-image/agent/kernel.relay.ts).
   */
  kernelRelay?: boolean;
}

/**
 * deletePod kills at once: what a session keeps (its recording, its profile) leaves the pod at
 * teardown, before the delete, so nothing inside needs a clean exit, and Chromium's orderly shutdown
 * cost the machine CPU on every pod (load-tests/pod-phases.ts, the delete phase).
 */
const DELETE_GRACE_MS = 0;

export class LocalDriver implements RuntimeDriver {
  readonly kind = 'local' as const;
  private readonly stateDir: string;
  private readonly bundleDir: string;
  private readonly rootBase: string;
  private readonly readyTimeoutMs: number;
  private readonly creations = new PodCreations();
  private readonly launcher: PodLauncher;
  private sandboxProblem: string | undefined;
  /**
   * The kernel relay's program for every pod; undefined where it cannot be had (no C compiler, say:
   * the agents then relay in Node, and the proxy, which needs the same program, logs why).
   */
  private kernelRelay: Promise<string | undefined> | undefined;

  constructor(private readonly options: LocalDriverOptions) {
    this.stateDir = resolve(options.stateDir);
    this.bundleDir = resolve(options.bundleDir ?? path.join(this.stateDir, '..', 'bundles'));
    const stackHash = createHash('sha256').update(this.stateDir).digest('hex').slice(0, 16);
    this.rootBase = resolve(options.rootBase ?? path.join('/var/lib/ventus/pods', stackHash));
    this.readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
    this.launcher = new PodLauncher(this.bundleDir);
  }

  async createPod(spec: PodSpec, signal?: AbortSignal): Promise<Pod> {
    return this.creations.run(signal, (aborted) => this.create(spec, aborted));
  }

  private async create(spec: PodSpec, signal: AbortSignal): Promise<Pod> {
    assertRunsKind(this.kind, spec.runtimeKind);
    // Checked once per driver: bubblewrap does not come or go while the service runs.
    this.sandboxProblem ??= sandboxUnavailable() ?? '';
    if (this.sandboxProblem) throw new Error(this.sandboxProblem);
    const dir = podDirOf(this.stateDir, spec.id);
    signal.throwIfAborted();
    if (await readPodRecord(dir)) throw new Error(`pod ${spec.id} already exists`);
    // A directory without a record is debris of a creation interrupted before its first write.
    await this.deletePod(spec.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });

    this.kernelRelay ??=
      this.options.kernelRelay === false
        ? Promise.resolve(undefined)
        : kernelRelayProgram(this.bundleDir, () => undefined);
    const kernelRelay = await this.kernelRelay;
    signal.throwIfAborted();
    const sandbox = preparePodSandbox(
      dir,
      spec.id,
      {
        rootBase: this.rootBase,
        bundle: podAgentBundle(this.bundleDir),
        niceness: this.options.niceness,
        ...(kernelRelay && { kernelRelay }),
      },
      { ...this.agentEnv(spec, dir), ...(kernelRelay && { KERNEL_RELAY: IN_POD.kernelRelay }) },
    );
    const [command, ...args] = sandbox.command;
    let launched: LaunchedPod | undefined;
    const record: PodRecord = {
      id: spec.id,
      pool: spec.pool,
      pid: 0,
      socket: '',
      root: sandbox.root,
      createdAt: new Date().toISOString(),
      headless: spec.headless,
    };
    try {
      // Written before the launch: if this process dies from here on, the pod can be found (by its
      // marker, pod-processes.util.ts) and deleted.
      await writePodRecord(dir, record);
      // Started by the launcher, not forked from this process (pod-launcher/launcher.main.ts).
      launched = await this.launcher.launch({
        command: command!,
        args,
        // bubblewrap's own environment: the marker (how deletePod finds the pod's processes) and PATH.
        env: { PATH: '/usr/bin:/bin', [POD_MARKER_VAR]: dir },
        ...(sandbox.uid !== undefined && { uid: sandbox.uid, gid: sandbox.uid }),
        logFile: join(dir, 'agent.log'),
      });
      record.pid = launched.pid;
      await this.waitForReady(launched, signal);
      record.socket = sandbox.socket;
      await writePodRecord(dir, record);
    } catch (err) {
      launched?.letGo();
      const log = await readFile(join(dir, 'agent.log'), 'utf8').catch(() => '');
      await this.stopProcesses(dir, launched?.pid, 500);
      await this.removeDirs(dir, sandbox.root);
      if (signal.aborted) throw signal.reason;
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`pod ${spec.id} failed to start: ${reason}\n${log.slice(-2_000)}`, { cause: err });
    }
    launched.letGo();
    return this.toPod(record);
  }

  async listPods(): Promise<PodStatus[]> {
    const ids = await listPodIds(this.stateDir);
    const pods = await Promise.all(ids.map((id) => this.getPod(id)));
    return pods
      .filter((p): p is PodStatus => p !== undefined)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async getPod(id: string): Promise<PodStatus | undefined> {
    if (!isValidPodId(id)) return undefined;
    const dir = join(this.stateDir, id);
    const record = await readPodRecord(dir);
    if (!record) return undefined;
    if (record.socket === '') {
      // Still starting (maybe in another process): not a pod yet. Past the ready timeout it is debris
      // of a creator that died; report it (not alive or not healthy) so a reaper deletes it.
      const age = Date.now() - Date.parse(record.createdAt);
      if (age < this.readyTimeoutMs + 5_000) return undefined;
    }
    return { ...this.toPod(record), alive: isPodProcessAlive(record.pid, dir) };
  }

  async isHealthy(pod: Pod): Promise<boolean> {
    return agentAnswersOk(this.options.agentAccess, pod, '/healthz');
  }

  configureSession(pod: Pod, config: PodSessionConfig): Promise<RestoredCounts | undefined> {
    return postSessionConfig(this.options.agentAccess, pod, config);
  }

  async deletePod(id: string): Promise<void> {
    if (!isValidPodId(id)) return;
    const dir = join(this.stateDir, id);
    if (!(await stat(dir).catch(() => undefined))) return;
    const record = await readPodRecord(dir);
    await this.stopProcesses(dir, record?.pid, DELETE_GRACE_MS);
    await this.removeDirs(dir, record?.root || this.rootOf(id));
  }

  /**
   * Pods outlive the driver on purpose and are left running. A creation still in flight, though,
   * would have no owner once the caller shuts down (and its directory may be wiped under it), so it
   * is aborted and cleaned up before close() resolves.
   */
  async close(): Promise<void> {
    await this.creations.abortAll(new Error('driver closed'));
    this.launcher.close();
  }

  /**
   * Removes what the driver keeps outside its state directory (as root: the pods' directories base
   * and its copy of the bundle), once every pod is deleted. For a data directory that goes away.
   */
  async removeSandboxBase(): Promise<void> {
    await rm(this.rootBase, { recursive: true, force: true, maxRetries: 3 });
  }

  /**
   * For a data directory that goes away: deletes every pod in it (held ones and debris too), then
   * what the driver keeps outside it (removeSandboxBase).
   */
  async removeAllPods(): Promise<void> {
    for (const id of await readdir(this.stateDir).catch(() => [])) await this.deletePod(id).catch(() => {});
    await this.removeSandboxBase();
  }

  /** The pod's own directory on the host (its /pod): user-data, home, scratch, its socket. */
  rootOf(id: string): string {
    return podRootOf(podDirOf(this.stateDir, id), id, this.rootBase);
  }

  /**
   * Stops every process of the pod in `dir` through the launcher (its /proc scans are synchronous
   * reads, kept off this process's event loop); here, should the launcher die meanwhile.
   */
  private async stopProcesses(dir: string, leaderPid: number | undefined, graceMs: number): Promise<void> {
    try {
      await this.launcher.stop({ podDir: dir, leaderPid, graceMs });
    } catch (err) {
      if (!(err instanceof LauncherDiedError)) throw err;
      await stopPodProcesses(dir, leaderPid, graceMs);
    }
  }

  private async removeDirs(dir: string, root: string): Promise<void> {
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** The agent's whole environment (inside its sandbox): nothing of the service's is inherited. */
  private agentEnv(spec: PodSpec, dir: string): Record<string, string> {
    const { egress, agentAccess, chromiumPath } = this.options;
    const env: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: process.env.LANG ?? 'C.UTF-8',
      POD_ID: spec.id,
      AGENT_SOCKET: IN_POD.socket,
      HEADLESS: String(spec.headless),
      USER_DATA_DIR: IN_POD.userData,
      SCRATCH_DIR: IN_POD.scratch,
      BROWSER_NETNS: 'true',
      BRIDGE_DIR: IN_POD.bridgeDir,
      VENTUS_EGRESS_ALLOW: egress.allow.join(','),
      VENTUS_EGRESS_ALLOW_PRIVATE: String(egress.allowPrivate),
      [AGENT_SECRET_ENV]: agentAccess.secretFor(spec.id),
      // Inherited by every process of the pod; how deletePod finds them (see pod-processes.util.ts).
      [POD_MARKER_VAR]: dir,
    };
    if (chromiumPath) env.CHROMIUM_PATH = chromiumPath;
    if (process.env.VENTUS_CHROMIUM_PATH) env.VENTUS_CHROMIUM_PATH = process.env.VENTUS_CHROMIUM_PATH;
    if (process.env.TZ) env.TZ = process.env.TZ;
    return env;
  }

  private toPod(record: PodRecord): Pod {
    const endpoint = { socketPath: record.socket || join(record.root, 'run', 'agent.sock') };
    return {
      id: record.id,
      pool: record.pool,
      cdpUrl: agentCdpUrl(endpoint),
      controlUrl: agentControlUrl(endpoint),
      createdAt: new Date(record.createdAt),
    };
  }

  private waitForReady(pod: LaunchedPod, signal: AbortSignal): Promise<AgentReadyLine> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`agent not ready within ${this.readyTimeoutMs} ms`)),
        this.readyTimeoutMs,
      );
      onAbort = () => reject(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort(); // aborted before we listened (e.g. close() during the launch)
      pod.exited.then(
        ({ code, signal: sig }) =>
          reject(new Error(`agent exited before ready (code ${code}, signal ${sig})`)),
        reject,
      );
    });
    const ready = pod.firstLine.then((line) => {
      try {
        const parsed = JSON.parse(line) as Partial<AgentReadyLine>;
        if (parsed.ready === true && parsed.socket === IN_POD.socket) return parsed as AgentReadyLine;
      } catch {
        // fall through
      }
      throw new Error(`unexpected agent output: ${line.slice(0, 200)}`);
    });
    return Promise.race([ready, failed]).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort!);
    });
  }
}
