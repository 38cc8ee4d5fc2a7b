/** Starts the pod's one Chromium and learns its DevTools endpoint. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isHeadlessShell } from './chromium.resolver.ts';
import { LineTail, hasExited, stopChild } from './child.util.ts';
import { SCREEN } from './xvfb.launcher.ts';
import { fetchChromiumVersion, type DevtoolsAddress } from './devtools.address.ts';
import {
  SANDBOX_DEVTOOLS_PORT,
  SANDBOX_PROXY_PORT,
  devtoolsSocket,
  netnsCommand,
  type BrowserNetns,
} from './browser.sandbox.ts';

export interface ChromiumHandle {
  process: ChildProcess;
  /** Where the agent reaches Chromium's DevTools (bound to 127.0.0.1 of the browser's network). */
  devtools: DevtoolsAddress;
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
  /** Chromium's own sandbox (namespaces + seccomp-bpf for renderers). Off only where it cannot run. */
  sandbox: boolean;
  /** Run the browser in a network namespace of its own (browser.sandbox.ts); its ports are fixed. */
  netns?: BrowserNetns;
  /** DevTools' port outside such a namespace (agent.config.ts DEVTOOLS_PORT); default 0, a free one. */
  devtoolsPort?: number;
}

/**
 * The browser's whole environment: nothing of the agent's (its secret, the service's variables) is
 * inherited, only what Chromium needs to find its display, fonts and scratch space.
 */
export function browserEnv(opts: LaunchOptions, parent: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: parent.LANG ?? 'C.UTF-8' };
  for (const name of ['TZ', POD_MARKER]) if (parent[name] !== undefined) env[name] = parent[name];
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
  return env;
}

/** The variable that marks every process of a local pod (core/runtime/pod-processes.util.ts). */
const POD_MARKER = 'VENTUS_POD_DIR';

export function chromiumArgs(
  opts: Pick<
    LaunchOptions,
    'executable' | 'headless' | 'userDataDir' | 'proxyPort' | 'sandbox' | 'netns' | 'devtoolsPort'
  >,
): string[] {
  const args = [
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
    // In its own network Chromium's port is fixed, a bad port no page may fetch (browser.sandbox.ts);
    // else the one configured, or a free one it picks and prints (see below).
    `--remote-debugging-port=${opts.netns ? SANDBOX_DEVTOOLS_PORT : (opts.devtoolsPort ?? 0)}`,
    `--user-data-dir=${opts.userDataDir}`,
    // WebRTC may not send UDP around the proxy (it would bypass the egress check).
    '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
    // The network service in the browser process: on Linux it runs unsandboxed either way
    // (--service-sandbox-type=none), so this gives nothing away, and it saves starting a process of
    // its own in every pod (~140 ms of CPU, load-tests/pod-start.ts). Chromium reads only the last
    // --enable-features: this is the one.
    '--enable-features=NetworkServiceInProcess2',
  ];
  // Without its own sandbox (a container without user namespaces) the container is the boundary.
  if (!opts.sandbox) args.push('--no-sandbox');
  const proxyPort = opts.netns ? SANDBOX_PROXY_PORT : opts.proxyPort;
  if (proxyPort !== undefined) {
    // `<-loopback>` removes Chromium's implicit bypass of localhost: every request, loopback included,
    // goes through the forwarding proxy, which applies the egress policy.
    args.push(`--proxy-server=http://127.0.0.1:${proxyPort}`, '--proxy-bypass-list=<-loopback>');
  }
  if (opts.headless && !isHeadlessShell(opts.executable)) args.push('--headless=new');
  // Headful: the desktop is what the live view shows, so it must hold the page and nothing else.
  // Kiosk: the window fullscreen, with no tab strip, address bar or infobar (later windows follow,
  // browser.window.ts). Position and size are the window's when it leaves fullscreen: the screen.
  if (!opts.headless)
    args.push('--kiosk', '--window-position=0,0', `--window-size=${SCREEN.width},${SCREEN.height}`);
  args.push('about:blank');
  return args;
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
  const browser = [opts.executable, ...chromiumArgs(opts)];
  const [command, ...args] = opts.netns ? netnsCommand(opts.netns, browser) : browser;
  // Own process group: the executable may be a wrapper script (Debian's headless shell is one) that
  // does not forward signals, so stopping Chromium means signalling the group, not the pid.
  const child = spawn(command!, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: browserEnv(opts),
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
    const devtools: DevtoolsAddress = opts.netns ? { socketPath: devtoolsSocket(opts.netns) } : { port };
    // The line is printed as the socket starts listening; confirm HTTP answers before calling it ready.
    for (let attempt = 0; ; attempt++) {
      if (await fetchChromiumVersion(devtools, 1_000)) break;
      if (hasExited(child) || attempt >= 100)
        throw new Error(`Chromium DevTools (${JSON.stringify(devtools)}) never answered\n${tail.toString()}`);
      await sleep(20);
    }
    return { process: child, devtools, browserPath, stderr: tail };
  } catch (err) {
    await stopChild(child, 500, true);
    throw err;
  }
}
