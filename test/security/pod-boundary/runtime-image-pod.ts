/**
 * One browser pod run the way the Kubernetes runtime image runs it: `runtime-image/entrypoint.sh`
 * with the agent bundled as the image's build stage bundles it, headless, on 127.0.0.1 at a free
 * port, with the pod's agent secret in VENTUS_AGENT_SECRET and only the environment a container
 * would give it. The test drives it as the control plane does: with the secret header on every
 * request and upgrade (an agent that does not check it yet simply ignores it).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AGENT_SECRET_ENV, AGENT_SECRET_HEADER } from '../../../runtime-image/agent/protocol.ts';
import { eventually } from '../../support/eventually.ts';
import { freePort } from '../../support/free-port.ts';
import { AttackerCdp } from './attacker-cdp.client.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface ImagePod {
  port: number;
  /** The headers the control plane sends (the secret). */
  headers: Record<string, string>;
  /** The agent's HTTP base URL. */
  url: string;
  /** The control plane's CDP connection to the pod (what the proxy relays a tenant's client to). */
  cdp(): Promise<AttackerCdp>;
  stop(): Promise<void>;
}

export async function startImagePod(): Promise<ImagePod> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ventus-attack-image-'));
  const agentFile = path.join(work, 'agent.mjs');
  execFileSync(process.execPath, ['--import', 'tsx', 'runtime-image/bundle-agent.mjs', agentFile], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const child: ChildProcess = spawn(path.join(ROOT, 'runtime-image', 'entrypoint.sh'), [], {
    // A container's environment: nothing of the service's (no DATABASE_URL, no secrets but its own).
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      AGENT_CMD: `${process.execPath} ${agentFile}`,
      AGENT_HOST: '127.0.0.1',
      AGENT_PORT: String(port),
      USER_DATA_DIR: path.join(work, 'pod', 'user-data'),
      HEADLESS: 'true',
      WINDOW_MANAGER: '',
      // As the image sets it: a container without user namespaces, where the container is the boundary.
      CHROMIUM_SANDBOX: 'false',
      [AGENT_SECRET_ENV]: secret,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const lines = createInterface({ input: child.stdout! });
    const ready = await Promise.race([
      once(lines, 'line').then(([line]) => JSON.parse(String(line)) as { ready?: boolean }),
      once(child, 'exit').then(() => ({ ready: false })),
    ]);
    if (!ready.ready) throw new Error(`the runtime image's agent did not start:\n${stderr}`);
    const headers = { [AGENT_SECRET_HEADER]: secret };
    const url = `http://127.0.0.1:${port}`;
    await eventually('the agent healthy', async () => (await fetch(`${url}/healthz`, { headers })).ok, {
      timeoutMs: 45_000,
      everyMs: 100,
    });
    return {
      port,
      headers,
      url,
      cdp: () => AttackerCdp.connect(`ws://127.0.0.1:${port}/devtools/browser`, headers),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
