/** What a figure depends on: the target, the runtime driver behind it, the machine and the date. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { HttpClient } from './http-client.ts';

export interface RunEnvironment {
  target: string;
  /** The runtime driver that produced the figures, and where that was learnt. */
  driver: { name: string; source: 'healthz' | 'readyz' | '--driver-label' | 'unknown' };
  /** The machine the load generator ran on (the same as the target's for a local stack). */
  machine: {
    cores: number;
    model: string;
    memoryGiB: number;
    platform: string;
    node: string;
    /** How an idle CPU waits (cpuidleState); latencies between processes depend on it. */
    idle?: string;
  };
  date: string;
}

export function machine(): RunEnvironment['machine'] {
  const cpus = os.cpus();
  const idle = cpuidleState();
  return {
    cores: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ...(idle && { idle }),
  };
}

const readSys = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/**
 * The kernel's cpuidle driver, and for a virtual machine's `haltpoll` how long an idle vCPU polls
 * before it halts. Without polling every wake-up of an idle vCPU is a VM exit and an interrupt
 * (tens of µs), paid at each hop between processes: docs/performance.md, "Ninth pass".
 */
export function cpuidleState(): string | undefined {
  const driver = readSys('/sys/devices/system/cpu/cpuidle/current_driver');
  if (!driver) return undefined;
  const pollNs =
    driver === 'haltpoll' ? readSys('/sys/module/haltpoll/parameters/guest_halt_poll_ns') : undefined;
  return pollNs === undefined ? `cpuidle ${driver}` : `cpuidle haltpoll, polls ${pollNs} ns before halting`;
}

/**
 * The driver as the deployment reports it (a `driver` field in /healthz or /readyz, when a
 * version exposes one), else the operator's `--driver-label`.
 */
export async function detectDriver(
  http: HttpClient,
  label: string | undefined,
): Promise<RunEnvironment['driver']> {
  for (const path of ['/healthz', '/readyz'] as const) {
    const res = await http.request('GET', path).catch(() => undefined);
    const body = res?.body as { driver?: unknown } | undefined;
    if (typeof body?.driver === 'string') return { name: body.driver, source: path.slice(1) as 'healthz' };
  }
  return label ? { name: label, source: '--driver-label' } : { name: 'unknown', source: 'unknown' };
}

export function describeMachine(m: RunEnvironment['machine']): string {
  return `${m.cores} cores (${m.model}), ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}${m.idle ? `, ${m.idle}` : ''}`;
}
