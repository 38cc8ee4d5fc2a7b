import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelayMs, RETRY_DEFAULTS } from '../../sdk/src/retry.ts';

describe('SDK retry timing', () => {
  const options = { ...RETRY_DEFAULTS, baseDelayMs: 100, maxDelayMs: 5000 };

  it('backs off exponentially with jitter, within [step/2, step], capped', () => {
    for (const [attempt, step] of [
      [0, 100],
      [3, 800],
      [10, 5000],
    ] as const) {
      expect(retryDelayMs(attempt, undefined, options, () => 0)).toBe(step / 2);
      expect(retryDelayMs(attempt, undefined, options, () => 1)).toBe(step);
    }
  });

  it('never retries sooner than Retry-After (up to maxDelayMs), jittered upwards', () => {
    expect(retryDelayMs(0, 2, options, () => 0)).toBe(2000);
    expect(retryDelayMs(0, 2, options, () => 1)).toBe(2200);
    expect(retryDelayMs(0, 1800, options, () => 0.5)).toBe(5000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10);
  });
});
