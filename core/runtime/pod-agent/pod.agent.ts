/**
 * One pod: (Xvfb +) Chromium + the agent's HTTP/CDP front. `startPodAgent` starts everything and
 * listens; main.ts owns the process (environment, signals, stdout, exit code).
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveChromium } from '../chromium.resolver.ts';
import type { PodSessionConfig } from '../driver.ts';
import type { AgentConfig } from './agent.config.ts';
import { createAgentServer } from './agent.server.ts';
import { CdpConnection } from './cdp.client.ts';
import { CdpRelay } from './cdp.relay.ts';
import { stopChild } from './child.util.ts';
import { fetchChromiumVersion, launchChromium, type ChromiumHandle } from './chromium.launcher.ts';
import { SessionEmulator } from './session.emulator.ts';
import { startXvfb, type XvfbHandle } from './xvfb.launcher.ts';

export interface PodAgent {
  /** The agent's HTTP/WebSocket port. */
  port: number;
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
}

async function stopProcesses(started: Started, userDataDir: string): Promise<void> {
  // Chromium first: it flushes nothing we keep, but a browser losing its display mid-run logs noise.
  if (started.chromium) await stopChild(started.chromium.process, 1_000, true);
  if (started.xvfb) await stopChild(started.xvfb.process, 500);
  await Promise.all(
    [userDataDir, started.tmpDir]
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
    if (!config.headless) started.xvfb = await startXvfb({ timeoutMs: 10_000, signal });
    const executable = config.chromiumPath ?? resolveChromium({ headless: config.headless });
    const display = started.xvfb?.display;
    const chromium = await launchChromium({
      executable,
      headless: config.headless,
      userDataDir: config.userDataDir,
      display,
      tmpDir: started.tmpDir,
      timeoutMs: 15_000,
      signal,
    });
    started.chromium = chromium;
    log.info({ executable, display, chromiumPort: chromium.port }, 'browser started');
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
  const { port: chromiumPort, browserPath } = chromium;

  // One browser-level CDP connection for the pod's life, opened on the first POST /session.
  let emulator: Promise<SessionEmulator> | undefined;
  let cdp: CdpConnection | undefined;
  const configure = async (session: PodSessionConfig): Promise<void> => {
    emulator ??= CdpConnection.connect(`ws://127.0.0.1:${chromiumPort}${browserPath}`, 5_000).then((c) => {
      cdp = c;
      return new SessionEmulator(c, log);
    });
    try {
      await (await emulator).configure(session);
    } catch (err) {
      if (cdp?.closed !== false) emulator = undefined; // let a later call reconnect
      throw err;
    }
  };

  const relay = new CdpRelay(() => (browserAlive ? { port: chromiumPort, browserPath } : undefined), log);
  const server = createAgentServer({
    version: () => (browserAlive ? fetchChromiumVersion(chromiumPort, 1_000) : Promise.resolve(undefined)),
    configure,
    relay,
    log,
  });
  const stop = (code: number): Promise<void> => {
    stopping ??= (async () => {
      server.close();
      server.closeAllConnections();
      relay.closeAll();
      cdp?.close();
      await stopProcesses(started, config.userDataDir);
      resolveDone(code);
    })();
    return stopping;
  };

  const onDeath = (what: string) => (code: number | null, sig: string | null) => {
    if (stopping) return;
    browserAlive = false;
    log.error({ code, signal: sig, stderr: chromium.stderr.toString() }, `${what} exited unexpectedly`);
    relay.closeAll();
    setTimeout(() => void stop(1), DEATH_GRACE_MS).unref();
  };
  chromium.process.once('exit', onDeath('chromium'));
  xvfb?.process.once('exit', onDeath('Xvfb'));

  server.listen(config.port, config.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => Promise.reject(err as Error)),
  ]);

  return { port: (server.address() as AddressInfo).port, done, stop: () => stop(0) };
}
