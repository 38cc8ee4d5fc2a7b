/**
 * runtime-image/entrypoint.sh, run directly on this machine (Chromium and Xvfb are installed here)
 * with the pod agent bundled the way the image's build stage bundles it and the image's settings
 * (its secret, CHROMIUM_SANDBOX=false): CDP comes up on the port, answers over a WebSocket that
 * presents the secret and refuses one that does not, the Dockerfile's HEALTHCHECK passes only with
 * the secret, and SIGTERM stops everything cleanly.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { xvfbAvailable } from '../../runtime-image/agent/chromium.resolver.ts';
import { AGENT_SECRET_ENV, AGENT_SECRET_HEADER } from '../../runtime-image/agent/protocol.ts';
import { AGENT_HEALTH_COMMAND } from '../../core/runtime/kubernetes/browser-container.ts';
import { isGoneOrZombie, processTree } from '../../core/process/proc-stat.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/free-port.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRYPOINT = path.join(ROOT, 'runtime-image', 'entrypoint.sh');
// Generous: a stop takes well under a second, but this machine may be busy with other tests.
const STOP_TIMEOUT_MS = 20_000;

let work: string;
let agentFile: string;
let kernelRelay: string;
let fakeWm: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'ventus-entrypoint-'));
  agentFile = path.join(work, 'agent.mjs');
  // The same command the Dockerfile's build stage runs.
  execFileSync(process.execPath, ['--import', 'tsx', 'runtime-image/bundle-agent.mjs', agentFile], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // The same command as the build stage's for the kernel relay.
  kernelRelay = path.join(work, 'kernel-relay');
  execFileSync('cc', ['-O2', '-Wall', '-o', kernelRelay, 'runtime-image/agent/kernel-relay.c'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Stands in for openbox (not installed here): records the display it was given, then idles.
  fakeWm = path.join(work, 'fake-wm.sh');
  writeFileSync(fakeWm, `#!/bin/sh\necho "$DISPLAY" > "$0.display"\nexec sleep 600\n`, { mode: 0o755 });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every descendant of `root`, from /proc (Chromium runs in its own process group). */
const descendants = (root: number): number[] => processTree(root).slice(1);

const alive = (pid: number): boolean => !isGoneOrZombie(pid);

function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    });
}

interface Pod {
  child: ChildProcess;
  port: number;
  secret: string;
  userDataDir: string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Pod[] = [];
let seenPids: number[] = [];

afterEach(() => {
  // A failed test must not leave a browser behind.
  for (const pid of seenPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const pod of started) if (pod.child.exitCode === null) pod.child.kill('SIGKILL');
  started.length = 0;
  seenPids = [];
});

/** The image's ENV, with this machine's paths and a free port on loopback. */
function imageEnv(port: number, userDataDir: string, headless: boolean): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AGENT_CMD: `${process.execPath} ${agentFile}`,
    AGENT_HOST: '127.0.0.1',
    AGENT_PORT: String(port),
    USER_DATA_DIR: userDataDir,
    HEADLESS: String(headless),
    WINDOW_MANAGER: fakeWm,
    CHROMIUM_SANDBOX: 'false',
    KERNEL_RELAY: kernelRelay,
  };
}

async function startPod(opts: { headless: boolean; secret?: string | null }): Promise<Pod> {
  const port = await freePort();
  const podDir = mkdtempSync(path.join(work, 'pod-'));
  const userDataDir = path.join(podDir, 'user-data');
  const secret = opts.secret === undefined ? randomBytes(32).toString('base64url') : (opts.secret ?? '');
  const env = imageEnv(port, userDataDir, opts.headless);
  if (opts.secret !== null) env[AGENT_SECRET_ENV] = secret;
  const child = spawn(ENTRYPOINT, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.resume();
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const pod = { child, port, secret, userDataDir, stderr: () => stderr, exit };
  started.push(pod);
  return pod;
}

const withSecret = (pod: Pod): Record<string, string> => ({ [AGENT_SECRET_HEADER]: pod.secret });

async function waitForChrome(pod: Pod): Promise<{ Browser: string; webSocketDebuggerUrl: string }> {
  return eventually(
    `CDP on 127.0.0.1:${pod.port}`,
    async () => {
      if (pod.child.exitCode !== null) throw new Error(`entrypoint exited early:\n${pod.stderr()}`);
      const res = await fetch(`http://127.0.0.1:${pod.port}/json/version`, { headers: withSecret(pod) });
      return res.ok ? ((await res.json()) as { Browser: string; webSocketDebuggerUrl: string }) : undefined;
    },
    { timeoutMs: 45_000, everyMs: 100 },
  );
}

/** Browser.getVersion over CDP with `headers`, or the HTTP status the upgrade was refused with. */
async function cdpProduct(url: string, headers: Record<string, string>): Promise<string | number> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  try {
    const opened = await new Promise<number | undefined>((resolve, reject) => {
      ws.once('open', () => resolve(undefined));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
    });
    if (opened !== undefined) return opened;
    ws.send(JSON.stringify({ id: 1, method: 'Browser.getVersion' }));
    const [data] = (await once(ws, 'message')) as [Buffer];
    return (JSON.parse(data.toString('utf8')) as { result: { product: string } }).result.product;
  } finally {
    ws.terminate();
  }
}

/** The Dockerfile's HEALTHCHECK command, run as Docker runs its exec form, with `env`: its exit code. */
function runHealthcheck(env: NodeJS.ProcessEnv): number | null {
  const [command, ...args] = dockerHealthcheck();
  return spawnSync(command!, args, { env, timeout: 10_000 }).status;
}

/** The exec form (a JSON array) after `HEALTHCHECK … CMD`. */
function dockerHealthcheck(): string[] {
  const dockerfile = readFileSync(path.join(ROOT, 'runtime-image', 'Dockerfile'), 'utf8');
  const match = /^HEALTHCHECK [^\n]*\\\n\s+CMD (\[.+\])$/m.exec(dockerfile);
  if (!match) throw new Error('no HEALTHCHECK ... CMD [...] in runtime-image/Dockerfile');
  return JSON.parse(match[1]!) as string[];
}

/** Whether process `pid`'s environment holds `text`. */
function environHas(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(text);
  } catch {
    return false;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 200);
  } catch {
    return '(gone)';
  }
}

async function stopAndCheck(pod: Pod, pids: number[]): Promise<void> {
  pod.child.kill('SIGTERM');
  const result = await Promise.race([
    pod.exit,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no exit ${STOP_TIMEOUT_MS} ms after SIGTERM`)), STOP_TIMEOUT_MS),
    ),
  ]);
  expect(result, pod.stderr()).toEqual({ code: 0, signal: null });
  // Chromium's helpers (zygote, renderers) notice their browser's end on their own, a moment after it
  // on a busy machine; none may stay.
  const lingering = () => pids.filter(alive).map((pid) => `${pid} ${commandOf(pid)}`);
  await eventually('every process of the pod to end', async () => lingering().length === 0, {
    timeoutMs: 10_000,
  }).catch(() => expect(lingering()).toEqual([]));
  // Also what started after `pids` was taken: any process still naming this pod's directory.
  expect(processesMentioning(pod.userDataDir)).toEqual([]);
  expect(existsSync(pod.userDataDir)).toBe(false);
}

const variants = [
  { name: 'headless', headless: true, available: true },
  { name: 'headful on Xvfb', headless: false, available: xvfbAvailable() },
];

describe.each(variants)('runtime-image/entrypoint.sh, $name', ({ headless, available }) => {
  it.skipIf(!available)('brings CDP up on the port and stops cleanly on SIGTERM', async () => {
    const pod = await startPod({ headless });
    const version = await waitForChrome(pod);
    expect(version.Browser).toMatch(/Chrome\/\d+/);
    const healthz = `http://127.0.0.1:${pod.port}/healthz`;
    expect((await fetch(healthz, { headers: withSecret(pod) })).status).toBe(200);

    // Through the agent's relay, as the proxy reaches a pod: with the pod's secret only.
    expect(version.webSocketDebuggerUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${pod.port}/`));
    expect(await cdpProduct(version.webSocketDebuggerUrl, withSecret(pod))).toMatch(/Chrome\/\d+/);
    expect(await cdpProduct(version.webSocketDebuggerUrl, {})).toBe(401);
    expect((await fetch(healthz)).status).toBe(401);

    const wmDisplayFile = `${fakeWm}.display`;
    if (headless) {
      expect(existsSync(wmDisplayFile)).toBe(false);
    } else {
      // The window manager joins the agent's own Xvfb display.
      const display = await eventually('the window manager', async () =>
        existsSync(wmDisplayFile) ? readFileSync(wmDisplayFile, 'utf8').trim() : undefined,
      );
      expect(display).toMatch(/^:\d+$/);
      rmSync(wmDisplayFile);
    }

    const pids = descendants(pod.child.pid!);
    seenPids = pids;
    // Only the agent was handed the secret: not Chromium, nor Xvfb, nor the window manager.
    const agentPid = pids.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(agentFile));
    expect(agentPid).toBeDefined();
    expect(pids.filter((pid) => pid !== agentPid && environHas(pid, pod.secret))).toEqual([]);
    // The CDP connection above went through the kernel relay, which holds no secret either (above).
    expect(
      pids.filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(kernelRelay)),
    ).toHaveLength(1);
    // The agent, Chromium (and its helpers), plus Xvfb and the window manager when headful.
    expect(pids.length).toBeGreaterThanOrEqual(headless ? 2 : 4);
    await stopAndCheck(pod, pids);
  });
});

describe("runtime-image/entrypoint.sh with the image's secret", () => {
  it("refuses every request without the secret, with another pod's, or with an Origin", async () => {
    const pod = await startPod({ headless: true });
    const version = await waitForChrome(pod);
    const base = `http://127.0.0.1:${pod.port}`;
    const wrong = { [AGENT_SECRET_HEADER]: randomBytes(32).toString('base64url') };
    const attempts: [string, Record<string, string>, number][] = [
      ['no secret', {}, 401],
      ["another pod's secret", wrong, 401],
      ['an Origin, even with the secret', { ...withSecret(pod), origin: 'https://evil.example' }, 403],
    ];
    for (const [what, headers, status] of attempts) {
      for (const route of ['/healthz', '/json/version', '/storage-state', '/live-view']) {
        expect((await fetch(base + route, { headers })).status, `${what}: GET ${route}`).toBe(status);
      }
      const post = await fetch(`${base}/session`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{"proxy":{"url":"http://attacker.example:8080"}}',
      });
      expect(post.status, `${what}: POST /session`).toBe(status);
      expect(await cdpProduct(version.webSocketDebuggerUrl, headers), `${what}: CDP`).toBe(status);
    }
    seenPids = descendants(pod.child.pid!);
    await stopAndCheck(pod, seenPids);
  });

  it("passes the Dockerfile's HEALTHCHECK (the Pod's probe script) only with the secret", async () => {
    // One script for both: the Pod's exec probes and the image's HEALTHCHECK.
    expect(dockerHealthcheck()).toEqual(AGENT_HEALTH_COMMAND);
    const pod = await startPod({ headless: true });
    await waitForChrome(pod);
    const container = { PATH: process.env.PATH, AGENT_PORT: String(pod.port) };
    expect(runHealthcheck({ ...container, [AGENT_SECRET_ENV]: pod.secret })).toBe(0);
    expect(runHealthcheck(container)).toBe(1);
    expect(runHealthcheck({ ...container, [AGENT_SECRET_ENV]: 'another-pods-secret-0123456789' })).toBe(1);
    seenPids = descendants(pod.child.pid!);
    await stopAndCheck(pod, seenPids);
  });

  it('does not start without a secret, and says which variable is missing', async () => {
    const pod = await startPod({ headless: true, secret: null });
    const result = await pod.exit;
    expect(result.code).toBe(1);
    expect(pod.stderr()).toContain(AGENT_SECRET_ENV);
  });
});

describe('runtime-image/entrypoint.sh stopped while starting', () => {
  it('exits 0 and leaves nothing behind', async () => {
    const pod = await startPod({ headless: true });
    // Mid-start: the agent is loading or launching Chromium (Kubernetes deletes pods at any time).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pids = descendants(pod.child.pid!);
    seenPids = pids;
    await stopAndCheck(pod, pids);
    // Chromium may have started after the snapshot above; nothing of it may outlive the stop.
    expect(readdirSync(path.dirname(pod.userDataDir))).toEqual([]);
  });
});

describe('runtime-image/entrypoint.sh when the browser dies', () => {
  it('exits non-zero, so Kubernetes sees the pod fail', async () => {
    const pod = await startPod({ headless: true });
    await waitForChrome(pod);
    const pids = descendants(pod.child.pid!);
    seenPids = pids;
    const chromium = pids.find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--remote-debugging-port');
      } catch {
        return false;
      }
    });
    expect(chromium).toBeDefined();
    process.kill(chromium!, 'SIGKILL');
    const result = await pod.exit;
    expect(result.code, pod.stderr()).toBe(1);
    await eventually('every process to go', async () => pids.filter(alive).length === 0, {
      timeoutMs: 5_000,
    });
    expect(existsSync(pod.userDataDir)).toBe(false);
  });
});
