/**
 * `create`: POST /v1/sessions at the arrival rate. 202 (admitted) and 503 (insufficient-capacity,
 * the pool is full) are both expected answers; anything else is an error. Each admitted session is
 * released at once, outside the measured latency, so the pool keeps turning over as it would
 * under short sessions instead of filling up and answering only 503s.
 */
import { networkOutcome } from '../harness/http-client.ts';
import { createSession, Pending, releaseSession, unexpected, type Scenario } from './scenario.ts';

export const createScenario: Scenario = {
  name: 'create',
  description:
    'POST /v1/sessions throughput and latency: 202 admitted, 503 insufficient-capacity, other answers are errors. ' +
    'Each admitted session is released right after (not timed).',
  steps: [],
  outcomes: ['202', '503'],
  async prepare({ http }) {
    const releases = new Pending();
    return {
      notes: [],
      close: () => releases.drain(),
      async task() {
        let res;
        try {
          res = await createSession(http);
        } catch (err) {
          return { ...networkOutcome(err), error: true };
        }
        if (res.status === 202) {
          const { id } = res.body as { id: string };
          releases.add(releaseSession(http, id));
          return { outcome: '202' };
        }
        if (res.status === 503) return { outcome: '503' };
        return unexpected(res);
      },
    };
  },
};
