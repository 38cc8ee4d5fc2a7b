/**
 * The pod agent's configuration, from its environment. Read once in main.ts, never at import time.
 */
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';

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
  };
}
