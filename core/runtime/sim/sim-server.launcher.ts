/**
 * Finding, starting and stopping the one sim runtime server of a state dir. Any process may be the
 * one that starts it (the broker, a worker, the pool controller, a test): it runs detached, in its
 * own process group, and outlives its starter, so pods outlive whoever created them. The server's
 * program is test tooling (load-tests/sim-runtime/), found by path when one is started
 * (sim-server.bundle.ts): absent from an installed image, where starting one fails with that error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path, { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { simServerCommand } from './sim-server.bundle.ts';
import { isProcessAlive, readSimServerState, simServerFiles, tryStartLock } from './sim-server.state.ts';

export interface SimServer {
  pid: number;
  /** `http://host:port`: admin API under /admin/, pods under /pods/<id>/. */
  baseUrl: string;
}

const HEALTH_TIMEOUT_MS = 2_000;

type Probe = { kind: 'up'; server: SimServer } | { kind: 'absent' } | { kind: 'busy'; pid: number };

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function refused(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return code === 'ECONNREFUSED' || code === 'EADDRNOTAVAIL';
}

/** What the state file names, checked: the recorded port must answer with the recorded pid. */
async function probe(stateDir: string): Promise<Probe> {
  const state = await readSimServerState(stateDir);
  if (!state) return { kind: 'absent' };
  const baseUrl = `http://${urlHost(state.host)}:${state.port}`;
  try {
    const res = await fetch(`${baseUrl}/admin/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = (await res.json().catch(() => ({}))) as { pid?: unknown };
    // Anything else answering on that port (the server died, the port was reused) is not ours.
    return res.ok && body.pid === state.pid
      ? { kind: 'up', server: { pid: state.pid, baseUrl } }
      : { kind: 'absent' };
  } catch (err) {
    // Refused: nothing listens there any more. A timeout while the pid lives: busy, not dead.
    return !refused(err) && isProcessAlive(state.pid) ? { kind: 'busy', pid: state.pid } : { kind: 'absent' };
  }
}

/** The running server of `stateDir`, or undefined when none runs. Never starts one. */
export async function findSimServer(stateDir: string): Promise<SimServer | undefined> {
  const found = await probe(resolve(stateDir));
  if (found.kind === 'busy') throw new Error(`sim runtime server (pid ${found.pid}) is not answering`);
  return found.kind === 'up' ? found.server : undefined;
}

/**
 * The running server of `stateDir`, started if none runs. Of several processes calling this at
 * once, one (holding server.lock) starts the server and the others wait for its server.json.
 */
export async function ensureSimServer(
  stateDir: string,
  options: { timeoutMs?: number; host?: string } = {},
): Promise<SimServer> {
  const dir = resolve(stateDir);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  await mkdir(dir, { recursive: true });
  for (;;) {
    const found = await probe(dir);
    if (found.kind === 'up') return found.server;
    if (found.kind === 'absent') {
      const release = await tryStartLock(dir);
      if (release) {
        try {
          // Someone may have finished starting one between our probe and our lock.
          const again = await probe(dir);
          if (again.kind === 'up') return again.server;
          return await startServer(dir, options.host ?? '127.0.0.1', deadline - Date.now());
        } finally {
          await release();
        }
      }
    }
    if (Date.now() > deadline) {
      const who =
        found.kind === 'busy'
          ? `server pid ${found.pid} is not answering`
          : 'another process holds server.lock';
      throw new Error(`sim runtime server in ${dir} did not come up: ${who}`);
    }
    await sleep(50);
  }
}

/** Asks the server of `stateDir` to stop, and waits until its process is gone. No server: no-op. */
export async function stopSimServer(stateDir: string, timeoutMs = 10_000): Promise<void> {
  const found = await probe(resolve(stateDir));
  if (found.kind !== 'up') return;
  const { pid, baseUrl } = found.server;
  await fetch(`${baseUrl}/admin/shutdown`, { method: 'POST', signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
    .then((res) => res.body?.cancel())
    .catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    // Its identity was just confirmed over HTTP, so the pid is safe to signal.
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await sleep(50);
  }
}

async function startServer(dir: string, host: string, timeoutMs: number): Promise<SimServer> {
  const files = simServerFiles(dir);
  // Before anything is opened: without the server's sources (an installed image) this is the one error.
  const [node, ...args] = simServerCommand(path.join(dir, 'bundles'));
  const logFd = openSync(files.log, 'a');
  let child: ChildProcess;
  try {
    child = spawn(node, args, {
      // Own process group and no tie to our stdio: the server outlives this process.
      detached: true,
      stdio: ['ignore', 'pipe', logFd],
      env: { ...process.env, SIM_STATE_DIR: dir, SIM_HOST: host },
    });
  } finally {
    closeSync(logFd);
  }
  try {
    const ready = await waitForReady(child, Math.max(timeoutMs, 1_000));
    return { pid: ready.pid, baseUrl: `http://${urlHost(host)}:${ready.port}` };
  } catch (err) {
    if (child.pid !== undefined && isProcessAlive(child.pid)) child.kill('SIGKILL');
    const log = await readFile(files.log, 'utf8').catch(() => '');
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`sim runtime server failed to start: ${reason}\n${log.slice(-2_000)}`, { cause: err });
  } finally {
    // Let neither the child nor its stdout pipe hold our event loop.
    child.stdout?.destroy();
    child.unref();
  }
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<{ port: number; pid: number }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const finish = (err: Error | undefined, ready?: { port: number; pid: number }): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      lines.close();
      if (err) reject(err);
      else resolve(ready!);
    };
    const timer = setTimeout(() => finish(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null, sig: string | null): void =>
      finish(new Error(`exited before ready (code ${code}, signal ${sig})`));
    const onError = (err: Error): void => finish(err);
    child.once('exit', onExit);
    child.once('error', onError);
    lines.once('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { ready?: unknown; port?: unknown; pid?: unknown };
        if (parsed.ready === true && typeof parsed.port === 'number' && typeof parsed.pid === 'number')
          return finish(undefined, { port: parsed.port, pid: parsed.pid });
      } catch {
        // fall through
      }
      finish(new Error(`unexpected output: ${line.slice(0, 200)}`));
    });
  });
}
