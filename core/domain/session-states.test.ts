import { describe, expect, it } from 'vitest';
import {
  END_STATUS,
  RELEASE_REASONS,
  SESSION_STATUSES,
  TRANSITIONS,
  assertTransition,
  canTransition,
  isTerminal,
  sourcesOf,
} from './session-states.ts';

const ALLOWED = new Set([
  'QUEUED>PROVISIONING',
  'QUEUED>COMPLETED',
  'QUEUED>ERRORED',
  'PROVISIONING>RUNNING',
  'PROVISIONING>COMPLETED',
  'PROVISIONING>ERRORED',
  'RUNNING>COMPLETED',
  'RUNNING>EXPIRED',
  'RUNNING>ERRORED',
]);

describe('session state machine', () => {
  for (const from of SESSION_STATUSES) {
    for (const to of SESSION_STATUSES) {
      const allowed = ALLOWED.has(`${from}>${to}`);
      it(`${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
        expect(canTransition(from, to)).toBe(allowed);
        if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
        else expect(() => assertTransition(from, to)).toThrow(/illegal/);
      });
    }
  }

  it('terminal states have no way out', () => {
    for (const s of SESSION_STATUSES) expect(isTerminal(s)).toBe(TRANSITIONS[s].length === 0);
  });

  it('every release reason ends in a terminal state reachable from somewhere', () => {
    for (const reason of RELEASE_REASONS) {
      expect(isTerminal(END_STATUS[reason])).toBe(true);
      expect(sourcesOf(END_STATUS[reason]).length).toBeGreaterThan(0);
    }
    expect(sourcesOf('EXPIRED')).toEqual(['RUNNING']);
  });
});
