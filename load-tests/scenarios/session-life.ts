/**
 * One session's life as an arrival of a load scenario: `create` (POST answered), `to_running` (a
 * long-poll GET until RUNNING), whatever the scenario does with the RUNNING session (`use`, which
 * marks its own steps), then `release` (PATCH REQUEST_RELEASE answered). A 503 (pool full) ends the
 * arrival after create; whatever fails, the session does not outlive its arrival.
 */
import { networkOutcome, type HttpClient } from '../harness/http-client.ts';
import type { TaskResult } from '../harness/scheduler.ts';
import { createSession, releaseSession, unexpected, type SessionView } from './scenario.ts';

/** Under the HTTP client's 30 s timeout. */
const WAIT_SECONDS = 20;
const RUNNING_TIMEOUT_MS = 60_000;
const LIVE = new Set(['QUEUED', 'PROVISIONING']);

export type Failure = { outcome: string; error: true; detail: string };

/**
 * Whether waitForRunning failed. Not `'error' in x`: the session resource has an `error` field of
 * its own (null, or what went wrong with the session).
 */
export function isFailure(x: SessionView | Failure): x is Failure {
  return (x as Failure).error === true && typeof (x as Failure).outcome === 'string';
}

/**
 * Waits for RUNNING the way clients are meant to: `GET /v1/sessions/{id}?wait_seconds=20`, answered
 * the moment the session settles (one request, counted once by the rate limit), asked again while it
 * is still QUEUED or PROVISIONING, for at most a minute.
 */
export async function waitForRunning(http: HttpClient, id: string): Promise<SessionView | Failure> {
  const deadline = performance.now() + RUNNING_TIMEOUT_MS;
  for (;;) {
    const res = await http.request(
      'GET',
      `/v1/sessions/${encodeURIComponent(id)}?wait_seconds=${WAIT_SECONDS}`,
    );
    if (res.status !== 200) return unexpected(res);
    const session = res.body as SessionView;
    if (session.status === 'RUNNING') return session;
    if (!LIVE.has(session.status)) {
      return { outcome: 'ended_early', error: true, detail: `session became ${session.status}` };
    }
    if (performance.now() > deadline) {
      return {
        outcome: 'running_timeout',
        error: true,
        detail: `not RUNNING within ${RUNNING_TIMEOUT_MS} ms`,
      };
    }
  }
}

/** A failure of `use` as the scenario names it (`cdp_error`…), or undefined for a network outcome. */
export type ClassifyFailure = (err: unknown) => TaskResult | undefined;

export async function sessionLife(
  http: HttpClient,
  mark: (step: string) => void,
  use: (session: SessionView) => Promise<void> = async () => {},
  classify: ClassifyFailure = () => undefined,
): Promise<TaskResult> {
  let id: string | undefined;
  let released = false;
  try {
    const created = await createSession(http);
    mark('create');
    if (created.status === 503) return { outcome: '503' };
    if (created.status !== 202) return unexpected(created);
    id = (created.body as SessionView).id;
    const running = await waitForRunning(http, id);
    if (isFailure(running)) return running;
    mark('to_running');
    await use(running);
    const release = await releaseSession(http, id);
    released = true;
    if (release.status !== 200) return unexpected(release);
    mark('release');
    return { outcome: 'ok' };
  } catch (err) {
    return classify(err) ?? { ...networkOutcome(err), error: true };
  } finally {
    if (id !== undefined && !released) await releaseSession(http, id).catch(() => {});
  }
}
