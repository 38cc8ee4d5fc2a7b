/** Starts the pod's one Chromium and learns its DevTools endpoint. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isHeadlessShell } from '../chromium.resolver.ts';
import { LineTail, hasExited, stopChild } from './child.util.ts';

export interface ChromiumHandle {
  process: ChildProcess;
  /** Chromium's DevTools port, bound to 127.0.0.1 only. */
  port: number;
  /** Path of the browser endpoint, `/devtools/browser/<guid>`: Chromium rejects any other guid. */
  browserPath: string;
  /** Last lines Chromium wrote to stderr, for crash reports. */
  stderr: LineTail;
}

export interface LaunchOptions {
  executable: string;
  headless: boolean;
  userDataDir: string;
  /** X display for headful pods. */
  display?: string;
  /** Private TMPDIR for Chromium, removed with the pod; see pod.agent.ts. */
  tmpDir?: string;
  /**
   * HOME (and XDG dirs) for Chromium inside the pod's own directory: default downloads (~/Downloads),
   * config and crash dumps go with the pod on every path, a crash or a reap included.
   */
  homeDir?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Port of the pod's forwarding proxy on 127.0.0.1 (forward-proxy.ts); every request goes through it. */
  proxyPort?: number;
}

export function chromiumArgs(
  opts: Pick<LaunchOptions, 'executable' | 'headless' | 'userDataDir' | 'proxyPort'>,
): string[] {
  const args = [
    '--no-sandbox', // we run as root; the pod (container or process group) is the isolation boundary
    // The network is closed: without these Chromium keeps retrying Google services and floods it.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-gpu',
    '--disable-quic',
    '--no-default-browser-check',
    '--disable-dev-shm-usage', // /dev/shm is tiny in containers; shared memory there crashes renderers
    // No desktop keyring over D-Bus here: without this a headful Chromium may wait for one.
    '--password-store=basic',
    '--remote-debugging-port=0', // Chromium picks a free port and prints it (see below)
    `--user-data-dir=${opts.userDataDir}`,
  ];
  if (opts.proxyPort !== undefined) {
    // `<-loopback>` removes Chromium's implicit bypass of localhost: a session's proxy sees every
    // request, and in direct mode the forwarding proxy reaches loopback just as Chromium would.
    args.push(`--proxy-server=http://127.0.0.1:${opts.proxyPort}`, '--proxy-bypass-list=<-loopback>');
  }
  if (opts.headless && !isHeadlessShell(opts.executable)) args.push('--headless=new');
  if (!opts.headless) args.push('--window-position=0,0', '--window-size=1920,1080'); // fill the Xvfb screen
  args.push('about:blank');
  return args;
}

/** Chromium's `/json/version`, or undefined when it does not answer within `timeoutMs`. */
export async function fetchChromiumVersion(
  port: number,
  timeoutMs: number,
): Promise<Record<string, unknown> | undefined> {
  try {
    // 127.0.0.1, not localhost: Chromium binds IPv4 only and rejects a non-IP Host header.
    const res = await fetch(`http://127.0.0.1:${port}/json/version`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return undefined;
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const DEVTOOLS_LINE = /^DevTools listening on ws:\/\/[^/]+:(\d+)(\/devtools\/browser\/\S+)/;

type LineListener = (line: string) => void;

async function waitForDevToolsLine(
  child: ChildProcess,
  tail: LineTail,
  lines: Set<LineListener>,
  opts: LaunchOptions,
): Promise<{ port: number; browserPath: string }> {
  return new Promise<{ port: number; browserPath: string }>((resolve, reject) => {
    const fail = (why: string): void => {
      settle();
      reject(new Error(`Chromium ${why}\n${tail.toString()}`));
    };
    const timer = setTimeout(
      () => fail(`printed no DevTools endpoint within ${opts.timeoutMs} ms`),
      opts.timeoutMs,
    );
    const onAbort = (): void => fail('start aborted');
    const onExit = (code: number | null, sig: string | null): void =>
      fail(`exited early (code ${code}, signal ${sig})`);
    const onError = (err: Error): void => fail(`failed to start: ${err.message}`);
    const onLine = (line: string): void => {
      const match = DEVTOOLS_LINE.exec(line.trim());
      if (!match) return;
      settle();
      resolve({ port: Number(match[1]), browserPath: match[2] ?? '' });
    };
    function settle(): void {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      child.off('exit', onExit);
      child.off('error', onError);
      lines.delete(onLine);
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('exit', onExit);
    child.once('error', onError);
    lines.add(onLine);
  });
}

/** Launches Chromium and resolves once its DevTools HTTP endpoint answers. */
export async function launchChromium(opts: LaunchOptions): Promise<ChromiumHandle> {
  const env = { ...process.env };
  if (opts.display) env.DISPLAY = opts.display;
  if (opts.tmpDir) {
    env.TMPDIR = opts.tmpDir;
    // Crashpad keeps its minidumps (renderer memory: cookies, tokens) under $XDG_CONFIG_HOME/chromium,
    // by default ~/.config, shared by every pod and never wiped. --crash-dumps-dir is ignored, and
    // --disable-crashpad-for-testing breaks full Chromium's network service, so move the config home.
    env.XDG_CONFIG_HOME = join(opts.tmpDir, 'config');
  }
  if (opts.homeDir) {
    env.HOME = opts.homeDir;
    env.XDG_CONFIG_HOME = join(opts.homeDir, '.config');
    env.XDG_CACHE_HOME = join(opts.homeDir, '.cache');
    env.XDG_DATA_HOME = join(opts.homeDir, '.local', 'share');
    env.XDG_DOWNLOAD_DIR = join(opts.homeDir, 'Downloads');
  }
  // Own process group: the executable may be a wrapper script (Debian's headless shell is one) that
  // does not forward signals, so stopping Chromium means signalling the group, not the pid.
  const child = spawn(opts.executable, chromiumArgs(opts), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
    detached: true,
  });
  const tail = new LineTail();
  const lines = new Set<LineListener>();
  // Keep draining stderr for the process's life: a full pipe would block Chromium's logging thread.
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of tail.push(chunk)) for (const listener of lines) listener(line);
  });
  try {
    const { port, browserPath } = await waitForDevToolsLine(child, tail, lines, opts);
    // The line is printed as the socket starts listening; confirm HTTP answers before calling it ready.
    for (let attempt = 0; ; attempt++) {
      if (await fetchChromiumVersion(port, 1_000)) break;
      if (hasExited(child) || attempt >= 50)
        throw new Error(`Chromium DevTools on port ${port} never answered`);
      await sleep(20);
    }
    return { process: child, port, browserPath, stderr: tail };
  } catch (err) {
    await stopChild(child, 500, true);
    throw err;
  }
}
