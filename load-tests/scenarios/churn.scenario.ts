/**
 * `churn`: a session's whole life over the API alone: `create` (POST answered), `to_running` (a
 * long-poll GET until RUNNING) and `release` (PATCH REQUEST_RELEASE answered). No CDP client: on the
 * sim driver it measures the control plane's sessions per second, every step of it.
 */
import type { Scenario } from './scenario.ts';
import { sessionLife } from './session-life.ts';

export const churnScenario: Scenario = {
  name: 'churn',
  description:
    'create → RUNNING (long-poll GET) → release over the API, no CDP client: a 503 (pool full) ends the arrival after create.',
  steps: ['create', 'to_running', 'release'],
  outcomes: ['ok', '503'],
  prepare({ http }) {
    return Promise.resolve({ notes: [], close: async () => {}, task: ({ mark }) => sessionLife(http, mark) });
  },
};
