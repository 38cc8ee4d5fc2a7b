/**
 * The pod agent's configuration, from its environment. Read once in main.ts, never at import time.
 */
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { egressPair, parseEgressAllow, type EgressPolicy } from '../../core/security/egress-policy.ts';
import { AGENT_SECRET_ENV } from './protocol.ts';

export interface AgentConfig {
  podId: string;
  /** Where the agent listens: 127.0.0.1 locally, the pod IP (or 0.0.0.0) in Kubernetes. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Browser executable; undefined lets resolveChromium choose. */
  chromiumPath: string | undefined;
  headless: boolean;
  /** Chromium's profile directory; created at start, removed at exit. */
  userDataDir: string;
  /**
   * The pod's scratch space (recording frames and the encoded WebM); created when first needed,
   * removed at exit. Default: `scratch` beside the user-data-dir, so a driver that deletes the pod's
   * directory (local: `<data dir>/pods/<id>/`) deletes it too, even after the agent was killed.
   */
  scratchDir: string;
  /** The ffmpeg executable (recordings); default `ffmpeg` on PATH. */
  ffmpegPath: string | undefined;
  /** AGENT_SOCKET: listen on this unix socket instead of host:port (local pods). */
  socketPath: string | undefined;
  /** The pod's secret (VENTUS_AGENT_SECRET): every route requires it. */
  secret: string;
  /** What pages may reach (VENTUS_EGRESS_ALLOW, VENTUS_EGRESS_ALLOW_PRIVATE). */
  egress: EgressPolicy;
  /** CHROMIUM_SANDBOX (default true): Chromium's own sandbox; false only where user namespaces are off. */
  chromiumSandbox: boolean;
  /**
   * BROWSER_NETNS=true: Chromium runs in a network namespace of its own, its bridges in BRIDGE_DIR
   * (browser.sandbox.ts). The local driver's sandbox sets it; a Kubernetes Pod is its own network.
   */
  browserNetns: { bridgeDir: string } | undefined;
  /**
   * DEVTOOLS_PORT: Chromium's DevTools port on 127.0.0.1 outside a network namespace of its own; 0
   * (the default) picks a free one. The runtime image sets a bad port (browser.sandbox.ts), which no
   * page may fetch: a Pod's loopback is the Pod's own.
   */
  devtoolsPort: number;
  /**
   * KERNEL_RELAY: the kernel relay's program (kernel-relay.c): CDP bytes then move in the kernel, not
   * through this process. Unset: the agent relays them itself.
   */
  kernelRelay: string | undefined;
}

function parseBool(name: string, raw: string | undefined, fallback: boolean, problems: string[]): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  problems.push(`${name} must be true or false, got ${JSON.stringify(raw)}`);
  return fallback;
}

/** Parses the agent's env; throws one Error listing every invalid value. */
export function readAgentConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const problems: string[] = [];
  const port = Number(env.AGENT_PORT ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`AGENT_PORT must be an integer 0..65535, got ${JSON.stringify(env.AGENT_PORT)}`);
  }
  const userDataDir = env.USER_DATA_DIR;
  // The agent deletes this directory recursively at exit, so refuse anything that looks like a mistake.
  if (
    !userDataDir ||
    !isAbsolute(userDataDir) ||
    resolve(userDataDir).split(sep).filter(Boolean).length < 2
  ) {
    problems.push(
      `USER_DATA_DIR must be an absolute path at least two levels deep, got ${JSON.stringify(userDataDir)}`,
    );
  }
  const scratchDir = env.SCRATCH_DIR;
  if (scratchDir !== undefined && scratchDir !== '' && !isAbsolute(scratchDir)) {
    problems.push(`SCRATCH_DIR must be an absolute path, got ${JSON.stringify(scratchDir)}`);
  }
  const headless = parseBool('HEADLESS', env.HEADLESS, true, problems);
  const secret = env[AGENT_SECRET_ENV] ?? '';
  if (secret.length < 16) problems.push(`${AGENT_SECRET_ENV} is required (at least 16 characters)`);
  const socketPath = env.AGENT_SOCKET || undefined;
  if (socketPath !== undefined && !isAbsolute(socketPath))
    problems.push('AGENT_SOCKET must be an absolute path');
  const netns = parseBool('BROWSER_NETNS', env.BROWSER_NETNS, false, problems);
  const bridgeDir = env.BRIDGE_DIR || undefined;
  if (netns && (!bridgeDir || !isAbsolute(bridgeDir)))
    problems.push('BROWSER_NETNS=true needs BRIDGE_DIR, an absolute path');
  // Pages never reach the agent itself, whatever the allow-list says.
  const ownPort = Number(env.AGENT_PORT ?? '0');
  const allow = parseEgressAllow(
    env.VENTUS_EGRESS_ALLOW ?? '',
    ownPort > 0 ? [egressPair('*', ownPort)] : [],
    problems,
  );
  const allowPrivate = parseBool(
    'VENTUS_EGRESS_ALLOW_PRIVATE',
    env.VENTUS_EGRESS_ALLOW_PRIVATE,
    false,
    problems,
  );
  const chromiumSandbox = parseBool('CHROMIUM_SANDBOX', env.CHROMIUM_SANDBOX, true, problems);
  const devtoolsPort = Number(env.DEVTOOLS_PORT || '0');
  if (!Number.isInteger(devtoolsPort) || devtoolsPort < 0 || devtoolsPort > 65535)
    problems.push(`DEVTOOLS_PORT must be an integer 0..65535, got ${JSON.stringify(env.DEVTOOLS_PORT)}`);
  const kernelRelay = env.KERNEL_RELAY || undefined;
  if (kernelRelay !== undefined && !isAbsolute(kernelRelay))
    problems.push('KERNEL_RELAY must be an absolute path');
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return {
    // In Kubernetes the hostname is the Pod's name, a good default id.
    podId: env.POD_ID || hostname(),
    host: env.AGENT_HOST || '127.0.0.1',
    port,
    chromiumPath: env.CHROMIUM_PATH || undefined,
    headless,
    userDataDir: resolve(userDataDir ?? ''),
    scratchDir: scratchDir ? resolve(scratchDir) : join(dirname(resolve(userDataDir ?? '')), 'scratch'),
    ffmpegPath: env.FFMPEG_PATH || undefined,
    socketPath,
    secret,
    egress: { allow, allowPrivate },
    chromiumSandbox,
    browserNetns: netns && bridgeDir ? { bridgeDir } : undefined,
    devtoolsPort,
    kernelRelay,
  };
}
