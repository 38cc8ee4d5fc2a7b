/**
 * The fake kubelet's probes, run as a kubelet runs what a Pod declares: `exec` (the command, with the
 * container's environment; exit 0 passes), `httpGet` (a plain GET with only the declared headers;
 * 200-399 passes) or `tcpSocket` (a connection passes). Every port of the container is the agent's.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import type { Probe } from './container-env.ts';

export interface ProbeTarget {
  /** The container's environment (what an exec probe runs with). */
  env: Record<string, string>;
  /** The agent's port on 127.0.0.1. */
  port: number;
}

/** One run of `probe`: true when it passes. */
export function runProbe(probe: Probe, target: ProbeTarget): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) {
    const [command, ...args] = probe.exec.command;
    return new Promise((resolve) => {
      execFile(command!, args, { env: target.env, timeout: timeoutMs }, (err) => resolve(err === null));
    });
  }
  if (probe.httpGet) {
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    const url = `http://127.0.0.1:${target.port}${probe.httpGet.path ?? '/'}`;
    return fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) }).then(
      async (res) => {
        await res.body?.cancel();
        return res.status >= 200 && res.status < 400;
      },
      () => false,
    );
  }
  if (probe.tcpSocket) {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: target.port, timeout: timeoutMs });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.once('timeout', () => done(false));
    });
  }
  return Promise.resolve(false);
}
