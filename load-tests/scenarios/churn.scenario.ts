/**
 * `churn`: a session's whole life over the API alone: `create` (POST answered), `to_running` (a
 * long-poll GET until RUNNING) and `release` (PATCH REQUEST_RELEASE answered). No CDP client: on the
 * sim driver it measures the control plane's sessions per second, every step of it.
 */
import { networkOutcome, type HttpClient } from '../harness/http-client.ts';
import { isFailure, waitForRunning } from './lifecycle.scenario.ts';
import { createSession, releaseSession, unexpected, type Scenario, type SessionView } from './scenario.ts';

async function churnOnce(
  http: HttpClient,
  mark: (step: string) => void,
): Promise<{ outcome: string; error?: boolean; detail?: string }> {
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
    const release = await releaseSession(http, id);
    released = true;
    if (release.status !== 200) return unexpected(release);
    mark('release');
    return { outcome: 'ok' };
  } catch (err) {
    return { ...networkOutcome(err), error: true };
  } finally {
    if (id !== undefined && !released) await releaseSession(http, id).catch(() => {});
  }
}

export const churnScenario: Scenario = {
  name: 'churn',
  description:
    'create → RUNNING (long-poll GET) → release over the API, no CDP client: a 503 (pool full) ends the arrival after create.',
  steps: ['create', 'to_running', 'release'],
  outcomes: ['ok', '503'],
  prepare({ http }) {
    return Promise.resolve({ notes: [], close: async () => {}, task: ({ mark }) => churnOnce(http, mark) });
  },
};
