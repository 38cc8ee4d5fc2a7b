/**
 * Sessions and warm pods on a scratch stack (load-tests/scratch-stack.ts), for the benchmark scripts
 * that drive one through its API: create, wait for RUNNING with the long-poll, wait for the pool.
 */
import { randomUUID } from 'node:crypto';
import { poolName } from '../../core/db/pools.repository.ts';
import type { ScratchStack } from '../scratch-stack.ts';

export interface RunningSession {
  id: string;
  status: string;
  connect_url: string;
}

/**
 * POST /v1/sessions (with its Idempotency-Key), its answer as is: for a caller that counts the 503s.
 * `prefer`: a Prefer header (`wait=30`: answered once the session is RUNNING).
 */
export function postSession(scratch: ScratchStack, body: object = {}, prefer?: string): Promise<Response> {
  return fetch(`${scratch.stack.url}/v1/sessions`, {
    method: 'POST',
    headers: { ...scratch.headers, 'idempotency-key': randomUUID(), ...(prefer && { prefer }) },
    body: JSON.stringify(body),
  });
}

/** POST /v1/sessions; resolves with the new session (throws unless it was accepted). */
export async function postedSession(
  scratch: ScratchStack,
  body: object = {},
  prefer?: string,
): Promise<RunningSession> {
  const res = await postSession(scratch, body, prefer);
  if (res.status !== 202) throw new Error(`create session: ${res.status} ${await res.text()}`);
  return (await res.json()) as RunningSession;
}

/** POST /v1/sessions; resolves with the new session's id (throws unless it was accepted). */
export async function createSession(scratch: ScratchStack, body: object = {}): Promise<string> {
  return (await postedSession(scratch, body)).id;
}

/** Long-polls the session until it is RUNNING (throws when it ends otherwise). */
export async function waitRunning(scratch: ScratchStack, id: string): Promise<RunningSession> {
  for (;;) {
    const res = await fetch(`${scratch.stack.url}/v1/sessions/${id}?wait_seconds=30`, {
      headers: scratch.headers,
    });
    const session = (await res.json()) as RunningSession;
    if (session.status === 'RUNNING') return session;
    if (!['QUEUED', 'PROVISIONING'].includes(session.status))
      throw new Error(`session ${id} is ${session.status}`);
  }
}

export async function runningSession(scratch: ScratchStack, body: object = {}): Promise<RunningSession> {
  return waitRunning(scratch, await createSession(scratch, body));
}

/** Warm pods of the stack's default pool now. */
export async function warmPodCount(scratch: ScratchStack): Promise<number> {
  const { services } = scratch.stack;
  return (await services.warmPods.ids(poolName(services.config.pool.region, 'chromium'))).length;
}

/**
 * Waits until the default pool has `count` warm pods, looking every `pollMs` (a script that starts
 * its next session as soon as the pool refills wants a shorter look); throws after `timeoutMs`.
 */
export async function waitForWarm(
  scratch: ScratchStack,
  count: number,
  { timeoutMs = 120_000, pollMs = 100 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await warmPodCount(scratch)) < count) {
    if (Date.now() > deadline)
      throw new Error(`the pool did not reach ${count} warm pods in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
