/**
 * runtime-image/entrypoint.sh, run directly on this machine (Chromium and Xvfb are installed here)
 * with the pod agent bundled the way the image's build stage bundles it: CDP comes up on the port,
 * answers over a raw WebSocket, and SIGTERM stops everything cleanly.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { xvfbAvailable } from '../../core/runtime/chromium.resolver.ts';
import { eventually } from '../support/eventually.ts';
import { RawCdp } from '../runtime/raw-cdp.client.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRYPOINT = path.join(ROOT, 'runtime-image', 'entrypoint.sh');
// Generous: a stop takes well under a second, but this machine may be busy with other tests.
const STOP_TIMEOUT_MS = 20_000;

let work: string;
let agentFile: string;
let fakeWm: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'ventus-entrypoint-'));
  agentFile = path.join(work, 'agent.mjs');
  // The same command the Dockerfile's build stage runs.
  execFileSync(process.execPath, ['--import', 'tsx', 'runtime-image/bundle-agent.mjs', agentFile], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Stands in for openbox (not installed here): records the display it was given, then idles.
  fakeWm = path.join(work, 'fake-wm.sh');
  writeFileSync(fakeWm, `#!/bin/sh\necho "$DISPLAY" > "$0.display"\nexec sleep 600\n`, { mode: 0o755 });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every live descendant of `root`, from /proc (Chromium runs in its own process group). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone while we looked.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    // A zombie still has a /proc entry; state Z counts as gone.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

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

async function startPod(opts: { headless: boolean }): Promise<Pod> {
  const port = await freePort();
  const podDir = mkdtempSync(path.join(work, 'pod-'));
  const userDataDir = path.join(podDir, 'user-data');
  const child = spawn(ENTRYPOINT, [], {
    env: {
      ...process.env,
      AGENT_CMD: `${process.execPath} ${agentFile}`,
      AGENT_HOST: '127.0.0.1',
      AGENT_PORT: String(port),
      USER_DATA_DIR: userDataDir,
      HEADLESS: String(opts.headless),
      WINDOW_MANAGER: fakeWm,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.resume();
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const pod = { child, port, userDataDir, stderr: () => stderr, exit };
  started.push(pod);
  return pod;
}

async function waitForChrome(pod: Pod): Promise<{ Browser: string; webSocketDebuggerUrl: string }> {
  return eventually(
    `CDP on 127.0.0.1:${pod.port}`,
    async () => {
      if (pod.child.exitCode !== null) throw new Error(`entrypoint exited early:\n${pod.stderr()}`);
      const res = await fetch(`http://127.0.0.1:${pod.port}/json/version`);
      return res.ok ? ((await res.json()) as { Browser: string; webSocketDebuggerUrl: string }) : undefined;
    },
    { timeoutMs: 45_000, everyMs: 100 },
  );
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
  expect(pids.filter(alive)).toEqual([]);
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
    expect((await fetch(`http://127.0.0.1:${pod.port}/healthz`)).status).toBe(200);

    // Through the agent's relay, as the proxy reaches a pod.
    expect(version.webSocketDebuggerUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${pod.port}/`));
    const cdp = await RawCdp.connect(version.webSocketDebuggerUrl);
    const browser = await cdp.send<{ product: string }>('Browser.getVersion');
    expect(browser.product).toMatch(/Chrome\/\d+/);
    cdp.close();

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
    // The agent, Chromium (and its helpers), plus Xvfb and the window manager when headful.
    expect(pids.length).toBeGreaterThanOrEqual(headless ? 2 : 4);
    await stopAndCheck(pod, pids);
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
