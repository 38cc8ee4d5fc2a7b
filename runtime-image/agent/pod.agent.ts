/**
 * One pod: (Xvfb +) Chromium + the agent's HTTP/CDP front. `startPodAgent` starts everything and
 * listens; main.ts owns the process (environment, signals, stdout, exit code).
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { resolveChromium } from './chromium.resolver.ts';
import type { PodSessionConfig, PodStorageState } from './protocol.ts';
import type { AgentConfig } from './agent.config.ts';
import { createAgentServer } from './agent.server.ts';
import { CdpConnection } from './cdp.client.ts';
import { CdpRelay } from './cdp.relay.ts';
import { KernelRelay } from './kernel.relay.ts';
import { stopChild } from './child.util.ts';
import { launchChromium, type ChromiumHandle } from './chromium.launcher.ts';
import { devtoolsWsUrl, fetchChromiumVersion } from './devtools.address.ts';
import { egressSocket, type BrowserNetns } from './browser.sandbox.ts';
import { ForwardProxy } from './forward-proxy.ts';
import { PodRecording } from './pod.recording.ts';
import { SessionEmulator } from './session.emulator.ts';
import { warmNetwork } from './network.warmup.ts';
import { captureStorageState, restoreStorageState } from './storage-state.ts';
import { startXvfb, type XvfbHandle } from './xvfb.launcher.ts';
import { pageWindowSize } from './browser.window.ts';
import { VncRelay } from './vnc.relay.ts';
import { ScreencastVnc } from './screencast-vnc.server.ts';

export interface PodAgent {
  /** The agent's HTTP/WebSocket port (0 on a unix socket). */
  port: number;
  /** The unix socket it listens on, if any. */
  socket: string | undefined;
  /** Resolves with the exit code once the agent has stopped: 0 after stop(), 1 when the browser died. */
  done: Promise<number>;
  /** Stops Chromium and Xvfb and removes the user-data-dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * How long /healthz answers 503 after the browser died before the agent exits. Pods are disposable:
 * no restart; exiting lets the driver (process gone) or Kubernetes (container exited) see it.
 */
const DEATH_GRACE_MS = 1_000;

interface Started {
  chromium?: ChromiumHandle;
  xvfb?: XvfbHandle;
  tmpDir?: string;
  homeDir?: string;
  forwardProxy?: ForwardProxy;
}

async function stopProcesses(started: Started, userDataDir: string, scratchDir?: string): Promise<void> {
  started.forwardProxy?.close();
  // Chromium first: it flushes nothing we keep, but a browser losing its display mid-run logs noise.
  if (started.chromium) await stopChild(started.chromium.process, 1_000, true);
  if (started.xvfb) await stopChild(started.xvfb.process, 500);
  await Promise.all(
    [userDataDir, started.tmpDir, started.homeDir, scratchDir]
      .filter((dir): dir is string => dir !== undefined)
      .map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 3 })),
  );
}

export async function startPodAgent(
  config: AgentConfig,
  log: Logger,
  signal?: AbortSignal,
): Promise<PodAgent> {
  await mkdir(config.userDataDir, { recursive: true });
  const started: Started = {};
  try {
    // Headful Chromium leaves its process-singleton socket dir in TMPDIR when killed; a private TMPDIR
    // (short: a unix socket path must fit in 108 bytes) goes away with the pod instead of piling up.
    started.tmpDir = await mkdtemp(join(tmpdir(), 'ventus-chromium-'));
    // Next to the user-data-dir, in the pod's own directory: deleted with the pod on every path.
    started.homeDir = join(dirname(config.userDataDir), 'home');
    await mkdir(started.homeDir, { recursive: true });
    if (!config.headless) started.xvfb = await startXvfb({ timeoutMs: 10_000, signal });
    const executable = config.chromiumPath ?? resolveChromium({ headless: config.headless });
    const display = started.xvfb?.display;
    // Before Chromium: its proxy is fixed at launch, so it always points here (forward-proxy.ts).
    started.forwardProxy = new ForwardProxy(log, config.egress);
    const netns: BrowserNetns | undefined = config.browserNetns && {
      bridgeDir: config.browserNetns.bridgeDir,
      // The browser's view of the agent's own door (its socket's directory) is empty.
      hide: config.socketPath ? [dirname(config.socketPath)] : [],
    };
    if (netns) await mkdir(netns.bridgeDir, { recursive: true, mode: 0o700 });
    const proxyPort = await started.forwardProxy.listen(netns && egressSocket(netns));
    const chromium = await launchChromium({
      proxyPort,
      sandbox: config.chromiumSandbox,
      ...(netns && { netns }),
      devtoolsPort: config.devtoolsPort,
      executable,
      headless: config.headless,
      userDataDir: config.userDataDir,
      display,
      tmpDir: started.tmpDir,
      homeDir: started.homeDir,
      timeoutMs: 15_000,
      signal,
    });
    started.chromium = chromium;
    log.info({ executable, display, devtools: chromium.devtools }, 'browser started');
    return await serve(config, log, { ...started, chromium });
  } catch (err) {
    await stopProcesses(started, config.userDataDir);
    throw err;
  }
}

async function serve(
  config: AgentConfig,
  log: Logger,
  started: Started & { chromium: ChromiumHandle },
): Promise<PodAgent> {
  const { chromium, xvfb } = started;
  let browserAlive = true;
  let stopping: Promise<void> | undefined;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const { devtools, browserPath } = chromium;
  const browserUrl = devtoolsWsUrl(devtools, browserPath);

  // One browser-level CDP connection for the pod's life, attached while the pod is warm (below), so
  // the claim (the first POST /session) only sends the session's overrides.
  let emulator: Promise<SessionEmulator> | undefined;
  let cdp: CdpConnection | undefined;
  const attachedEmulator = async (): Promise<SessionEmulator> => {
    emulator ??= CdpConnection.connect(browserUrl, 5_000).then((c) => {
      cdp = c;
      return new SessionEmulator(c, log, xvfb !== undefined);
    });
    try {
      const attached = await emulator;
      await attached.attach();
      return attached;
    } catch (err) {
      if (cdp?.closed !== false) emulator = undefined; // let a later call reconnect
      throw err;
    }
  };
  const configure = async (session: PodSessionConfig): Promise<void> =>
    (await attachedEmulator()).configure(session);

  // Storage work gets a connection of its own per call (see storage-state.ts); origins restored are
  // remembered so a capture reads them even when no page has them open.
  const restoredOrigins = new Set<string>();
  const withBrowser = async <T>(fn: (c: CdpConnection) => Promise<T>): Promise<T> => {
    const c = await CdpConnection.connect(browserUrl, 5_000);
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  };
  const restoreStorage = (state: PodStorageState) =>
    withBrowser(async (c) => {
      const restored = await restoreStorageState(c, state);
      for (const o of restored.origins) restoredOrigins.add(o.origin);
      return restored;
    });
  const recording = new PodRecording(browserUrl, config.scratchDir, log, config.ffmpegPath);
  // The snapshot's helper tab is the agent's, not the user's: kept out of the recording.
  const captureStorage = () =>
    recording.hidePagesDuring(() => withBrowser((c) => captureStorageState(c, restoredOrigins)));

  let networkWarm = false;
  const relay = new CdpRelay(
    () => (browserAlive ? { devtools, browserPath } : undefined),
    log,
    // The pod's environment, as every process the agent starts has it: no secret (main.ts dropped
    // it), and the local driver's marker, by which a delete finds every process of the pod.
    config.kernelRelay ? new KernelRelay(config.kernelRelay, log, process.env).start() : undefined,
  );
  // The private TMPDIR (0700) holds x11vnc's socket: only the pod's user can reach it.
  // Headless: no desktop, so the live view is the page's screencast, served as VNC all the same.
  const vnc =
    xvfb && started.tmpDir
      ? new VncRelay(xvfb.display, started.tmpDir, log, 'x11vnc', () => withBrowser(pageWindowSize))
      : new ScreencastVnc(browserUrl, log);
  const server = createAgentServer({
    version: () => (browserAlive ? fetchChromiumVersion(devtools, 1_000) : Promise.resolve(undefined)),
    configure,
    restoreStorage,
    captureStorage,
    useProxy: (proxy) =>
      started.forwardProxy?.tryUpstream(proxy) ?? Promise.resolve('this pod has no forwarding proxy'),
    proxyStatus: () => started.forwardProxy?.status() ?? { mode: 'direct', lastError: null },
    networkWarm: () => networkWarm,
    recording,
    relay,
    vnc,
    secret: config.secret,
    log,
  });
  const stop = (code: number): Promise<void> => {
    stopping ??= (async () => {
      server.close();
      server.closeAllConnections();
      await relay.closeAll();
      cdp?.close();
      await vnc.close();
      await recording.dispose();
      await stopProcesses(started, config.userDataDir, config.scratchDir);
      resolveDone(code);
    })();
    return stopping;
  };

  const onDeath = (what: string) => (code: number | null, sig: string | null) => {
    if (stopping) return;
    browserAlive = false;
    log.error({ code, signal: sig, stderr: chromium.stderr.toString() }, `${what} exited unexpectedly`);
    void relay.closeAll();
    void vnc.close();
    setTimeout(() => void stop(1), DEATH_GRACE_MS).unref();
  };
  chromium.process.once('exit', onDeath('chromium'));
  xvfb?.process.once('exit', onDeath('Xvfb'));

  if (config.socketPath) {
    await mkdir(dirname(config.socketPath), { recursive: true, mode: 0o700 });
    await rm(config.socketPath, { force: true });
    server.listen(config.socketPath);
  } else server.listen(config.port, config.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => Promise.reject(err as Error)),
  ]);

  // While warm: a claim that comes before this is done waits for the same attach. Then the network
  // path is warmed (network.warmup.ts), off the claim's path: a claim does not wait for it. On a
  // connection of its own: the emulator's auto-attaches, and would drop a second session on the page.
  attachedEmulator()
    .catch((err: Error) => log.warn({ err }, 'session emulator: attach while warm failed'))
    .then(() => withBrowser(warmNetwork))
    .then(
      (fetched) => (networkWarm = fetched),
      (err: Error) => log.warn({ err }, 'network warm-up failed'),
    );
  const port = config.socketPath ? 0 : (server.address() as AddressInfo).port;
  return { port, socket: config.socketPath, done, stop: () => stop(0) };
}
