/**
 * The `local` runtime driver: each pod is one pod-agent process (own process group) owning one
 * Chromium (and, headful, one Xvfb), recorded under `<stateDir>/<podId>/`.
 *
 * Pods deliberately outlive the driver object and the process that created them: the state
 * directory is the source of truth, so another process or a restarted one lists, probes and
 * deletes the same pods.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { answersOk, postSessionConfig } from './pod-control.client.ts';
import { PodCreations } from './pod-creations.ts';
import type { Pod, PodSessionConfig, PodSpec, PodStatus, RestoredCounts, RuntimeDriver } from './driver.ts';
import { podAgentCommand } from './pod-agent-bundle.ts';
import { POD_MARKER_VAR, isPodProcessAlive, stopPodProcesses } from './pod-processes.util.ts';
import {
  isValidPodId,
  listPodIds,
  podDirOf,
  readPodRecord,
  writePodRecord,
  type PodRecord,
} from './pod.store.ts';

export { resolveChromium, xvfbAvailable } from './chromium.resolver.ts';

export interface LocalDriverOptions {
  /** Where pods live: `<stateDir>/<podId>/{pod.json,user-data/,agent.log}`. */
  stateDir: string;
  /** Browser executable for every pod; default: resolveChromium() inside the agent. */
  chromiumPath?: string;
  /** Address the agents listen on and that Pod URLs use; default 127.0.0.1. */
  agentHost?: string;
  /** How long createPod waits for the agent's ready line; default 20 s. */
  readyTimeoutMs?: number;
}

const DELETE_GRACE_MS = 2_000;

export { podAgentCommand };

interface ReadyLine {
  ready: true;
  port: number;
  pid: number;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export class LocalDriver implements RuntimeDriver {
  readonly kind = 'local' as const;
  private readonly stateDir: string;
  private readonly host: string;
  private readonly readyTimeoutMs: number;
  private readonly creations = new PodCreations();

  constructor(private readonly options: LocalDriverOptions) {
    this.stateDir = resolve(options.stateDir);
    this.host = options.agentHost ?? '127.0.0.1';
    this.readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  }

  async createPod(spec: PodSpec, signal?: AbortSignal): Promise<Pod> {
    return this.creations.run(signal, (aborted) => this.create(spec, aborted));
  }

  private async create(spec: PodSpec, signal: AbortSignal): Promise<Pod> {
    const dir = podDirOf(this.stateDir, spec.id);
    signal.throwIfAborted();
    if (await readPodRecord(dir)) throw new Error(`pod ${spec.id} already exists`);
    // A directory without a record is debris of a creation interrupted before its first write.
    await this.deletePod(spec.id);
    await mkdir(dir, { recursive: true });

    const logFd = openSync(join(dir, 'agent.log'), 'a');
    let child: ChildProcess;
    try {
      const [node, ...args] = podAgentCommand();
      child = spawn(node, args, {
        // Own process group: the agent, Chromium, Xvfb and Chromium's helpers die together.
        detached: true,
        stdio: ['ignore', 'pipe', logFd],
        env: this.agentEnv(spec, dir),
      });
    } finally {
      closeSync(logFd);
    }
    const record: PodRecord = {
      id: spec.id,
      pool: spec.pool,
      pid: child.pid ?? 0,
      port: 0,
      createdAt: new Date().toISOString(),
      headless: spec.headless,
    };
    try {
      // Written before readiness so that, if this process dies now, the pod can still be found and deleted.
      if (child.pid !== undefined) await writePodRecord(dir, record);
      const ready = await this.waitForReady(child, signal);
      record.port = ready.port;
      await writePodRecord(dir, record);
    } catch (err) {
      const log = await readFile(join(dir, 'agent.log'), 'utf8').catch(() => '');
      await stopPodProcesses(dir, child.pid, 500);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      if (signal.aborted) throw signal.reason;
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`pod ${spec.id} failed to start: ${reason}\n${log.slice(-2_000)}`, { cause: err });
    }
    // The pod outlives this process: let neither the child nor its stdout pipe hold the event loop.
    child.stdout?.destroy();
    child.unref();
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
    if (record.port === 0) {
      // Still starting (maybe in another process): not a pod yet. Past the ready timeout it is debris
      // of a creator that died; report it (not alive or not healthy) so a reaper deletes it.
      const age = Date.now() - Date.parse(record.createdAt);
      if (age < this.readyTimeoutMs + 5_000) return undefined;
    }
    return { ...this.toPod(record), alive: isPodProcessAlive(record.pid, dir) };
  }

  async isHealthy(pod: Pod): Promise<boolean> {
    return answersOk(`${pod.controlUrl}/healthz`);
  }

  configureSession(pod: Pod, config: PodSessionConfig): Promise<RestoredCounts | undefined> {
    return postSessionConfig(pod, config);
  }

  async deletePod(id: string): Promise<void> {
    if (!isValidPodId(id)) return;
    const dir = join(this.stateDir, id);
    if (!(await stat(dir).catch(() => undefined))) return;
    const record = await readPodRecord(dir);
    await stopPodProcesses(dir, record?.pid, DELETE_GRACE_MS);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /**
   * Pods outlive the driver on purpose and are left running. A creation still in flight, though,
   * would have no owner once the caller shuts down (and its directory may be wiped under it), so it
   * is aborted and cleaned up before close() resolves.
   */
  async close(): Promise<void> {
    await this.creations.abortAll(new Error('driver closed'));
  }

  private agentEnv(spec: PodSpec, dir: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      POD_ID: spec.id,
      AGENT_HOST: this.host,
      AGENT_PORT: '0',
      HEADLESS: String(spec.headless),
      USER_DATA_DIR: join(dir, 'user-data'),
      // Inherited by every process of the pod; how deletePod finds them (see pod-processes.util.ts).
      [POD_MARKER_VAR]: dir,
    };
    if (this.options.chromiumPath) env.CHROMIUM_PATH = this.options.chromiumPath;
    else delete env.CHROMIUM_PATH;
    return env;
  }

  private toPod(record: PodRecord): Pod {
    const base = `${urlHost(this.host)}:${record.port}`;
    return {
      id: record.id,
      pool: record.pool,
      cdpUrl: `ws://${base}/devtools/browser`,
      controlUrl: `http://${base}`,
      createdAt: new Date(record.createdAt),
    };
  }

  private waitForReady(child: ChildProcess, signal: AbortSignal): Promise<ReadyLine> {
    return new Promise<ReadyLine>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const finish = (err: Error | undefined, ready?: ReadyLine): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        child.off('exit', onExit);
        child.off('error', onError);
        lines.close();
        if (err) reject(err);
        else resolve(ready!);
      };
      const timer = setTimeout(
        () => finish(new Error(`agent not ready within ${this.readyTimeoutMs} ms`)),
        this.readyTimeoutMs,
      );
      const onAbort = (): void => finish(new Error('aborted'));
      const onExit = (code: number | null, sig: string | null): void =>
        finish(new Error(`agent exited before ready (code ${code}, signal ${sig})`));
      const onError = (err: Error): void => finish(err);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort(); // aborted before we listened (e.g. close() during spawn)
      child.once('exit', onExit);
      child.once('error', onError);
      lines.once('line', (line) => {
        try {
          const parsed = JSON.parse(line) as Partial<ReadyLine>;
          if (parsed.ready === true && typeof parsed.port === 'number')
            return finish(undefined, parsed as ReadyLine);
        } catch {
          // fall through
        }
        finish(new Error(`unexpected agent output: ${line.slice(0, 200)}`));
      });
    });
  }
}
