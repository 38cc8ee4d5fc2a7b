import { describe, expect, it } from 'vitest';
import { advise, erlangB, maxOfferedLoad, predict, serversFor } from './erlang-b.ts';

/** Rounds to three significant figures, as Erlang-B tables print. */
const sf3 = (x: number) => Number(x.toPrecision(3));

// Offered load (erlangs) that N servers carry at a given blocking, from the standard Erlang-B
// table. Each value was checked against a 40-digit evaluation of the factorial form (an algorithm
// independent of the recursion under test), the closed forms for N = 1 and 2 (see below), the
// one-decimal table in "Carrier Grade Voice over IP" (2nd ed., appendix A: rows 1-9) and the
// erlang.com calculator manual (15 lines at 1% carry 8.108 E).
const TABLE: Record<string, [servers: number, erlangs: number][]> = {
  '0.01': [
    [1, 0.0101],
    [2, 0.153],
    [3, 0.455],
    [4, 0.869],
    [5, 1.36],
    [10, 4.46],
    [11, 5.16],
    [15, 8.11],
    [20, 12.0],
    [50, 37.9],
    [100, 84.1],
  ],
  '0.02': [
    [10, 5.08],
    [20, 13.2],
  ],
  '0.05': [
    [1, 0.0526],
    [2, 0.381],
    [5, 2.22],
    [10, 6.22],
    [20, 15.2],
    [50, 44.5],
    [100, 95.2],
  ],
};

describe('erlangB', () => {
  it('matches direct table values B(N, A) to three significant figures', () => {
    const cases: [servers: number, erlangs: number, blocking: number][] = [
      [1, 1, 0.5],
      [2, 1, 0.2],
      [3, 2, 0.211], // 4/19
      [4, 2, 0.0952], // 2/21: the modem-pool example (4 modems, 2 E) of Wolfram's ErlangB page
      [6, 2, 0.0121],
      [5, 3, 0.11],
      [10, 5, 0.0184],
      [10, 10, 0.215],
      [20, 15, 0.0456],
      [100, 80, 0.00399],
      [100, 100, 0.0757],
      [1000, 1000, 0.0248],
    ];
    for (const [n, a, b] of cases) expect(sf3(erlangB(n, a)), `B(${n}, ${a})`).toBe(b);
  });

  it('agrees with the closed forms B(1, A) = A / (1 + A) and B(2, A) = (A²/2) / (1 + A + A²/2)', () => {
    for (const a of [0.001, 0.3, 1, 7.5, 250]) {
      expect(erlangB(1, a)).toBeCloseTo(a / (1 + a), 14);
      expect(erlangB(2, a)).toBeCloseTo(a ** 2 / 2 / (1 + a + a ** 2 / 2), 14);
    }
  });

  it('agrees with the factorial form where that form is still computable', () => {
    const factorialForm = (n: number, a: number) => {
      let term = 1;
      let sum = 1;
      for (let k = 1; k <= n; k++) {
        term *= a / k;
        sum += term;
      }
      return term / sum;
    };
    for (const n of [3, 8, 25, 60])
      for (const a of [0.5, 4, 20, 55]) expect(erlangB(n, a)).toBeCloseTo(factorialForm(n, a), 12);
  });

  it('stays finite and ordered where the factorial form overflows', () => {
    const b = erlangB(5000, 4900);
    expect(b).toBeGreaterThan(0);
    expect(b).toBeLessThan(1);
    expect(erlangB(5001, 4900)).toBeLessThan(b);
    expect(erlangB(5000, 4901)).toBeGreaterThan(b);
  });

  it('has the edge values of the definition: no servers refuse all, no load refuses none', () => {
    expect(erlangB(0, 3)).toBe(1);
    expect(erlangB(4, 0)).toBe(0);
  });

  it('refuses invalid input with a clear error', () => {
    expect(() => erlangB(-1, 2)).toThrow(/servers must be a whole number/);
    expect(() => erlangB(2.5, 2)).toThrow(/servers must be a whole number/);
    expect(() => erlangB(3, -0.1)).toThrow(/offered load must be a finite number >= 0/);
    expect(() => erlangB(3, Number.NaN)).toThrow(/offered load/);
    expect(() => erlangB(3, Number.POSITIVE_INFINITY)).toThrow(/offered load/);
  });
});

describe('maxOfferedLoad', () => {
  for (const [blocking, rows] of Object.entries(TABLE)) {
    it(`matches the published table at ${Number(blocking) * 100}% blocking`, () => {
      for (const [n, a] of rows) expect(sf3(maxOfferedLoad(n, Number(blocking))), `N = ${n}`).toBe(a);
    });
  }

  it('is the inverse of erlangB', () => {
    for (const n of [1, 7, 40, 300])
      for (const b of [0.001, 0.01, 0.2, 0.7]) expect(erlangB(n, maxOfferedLoad(n, b))).toBeCloseTo(b, 10);
  });

  it('gives 1 / 99 erlangs for one server at 1% (B(1, A) = A / (1 + A))', () => {
    expect(maxOfferedLoad(1, 0.01)).toBeCloseTo(1 / 99, 12);
  });

  it('carries nothing without servers and refuses a blocking outside (0, 1)', () => {
    expect(maxOfferedLoad(0, 0.01)).toBe(0);
    expect(() => maxOfferedLoad(5, 0)).toThrow(/blocking must be a fraction strictly between 0 and 1/);
    expect(() => maxOfferedLoad(5, 1)).toThrow(/blocking/);
  });
});

describe('serversFor', () => {
  it('is the smallest N of the table that carries the load', () => {
    // 10 servers carry 4.46 E at 1%, 11 carry 5.16 E: 5 E needs 11.
    expect(serversFor(5, 0.01)).toBe(11);
    expect(serversFor(4.4, 0.01)).toBe(10);
    expect(serversFor(12, 0.01)).toBe(20);
    expect(serversFor(84, 0.01)).toBe(100);
    expect(serversFor(15.2, 0.05)).toBe(20);
  });

  it('stops exactly at the target', () => {
    const n = serversFor(240, 0.01);
    expect(erlangB(n, 240)).toBeLessThanOrEqual(0.01);
    expect(erlangB(n - 1, 240)).toBeGreaterThan(0.01);
  });

  it('needs no servers for no load and refuses bad input', () => {
    expect(serversFor(0, 0.01)).toBe(0);
    expect(() => serversFor(-1, 0.01)).toThrow(/offered load/);
    expect(() => serversFor(5, 1.5)).toThrow(/target blocking must be a fraction/);
    expect(() => serversFor(1e9, 0.01)).toThrow(/offered load must be at most/);
  });
});

describe('advise', () => {
  it('sizes the worked example of docs/operations.md: 2 sessions/s, 120 s sessions, 0.4 s starts', () => {
    const advice = advise({ arrivalRatePerSecond: 2, meanSessionSeconds: 120, startSeconds: 0.4 });
    expect(advice.offeredLoadErlangs).toBe(240);
    expect(advice.warmOfferedLoadErlangs).toBeCloseTo(0.8, 12);
    // ErlangB(262, 240) = 1.0006% misses the 1% target by a hair; ErlangB(263, 240) = 0.905%.
    expect(advice.maxTotal).toBe(263);
    expect(sf3(erlangB(262, 240))).toBe(0.01);
    expect(erlangB(262, 240)).toBeGreaterThan(0.01);
    expect(sf3(advice.predicted.rate503)).toBe(0.00905);
    // B(1, 0.8) = 0.444, B(2, 0.8) = 0.151, B(3, 0.8) = 0.0387: three warm slots hit 96.1%.
    expect(advice.minReady).toBe(3);
    expect(sf3(advice.predicted.warmHitRate)).toBe(0.961);
    expect(advice.notes).toEqual([]);
    expect(advice).toMatchObject({ target503Rate: 0.01, targetWarmHitRate: 0.95 });
  });

  it('follows the targets it is given', () => {
    const strict = advise({
      arrivalRatePerSecond: 2,
      meanSessionSeconds: 120,
      startSeconds: 0.4,
      target503Rate: 0.001,
      targetWarmHitRate: 0.99,
    });
    expect(strict.maxTotal).toBe(281);
    expect(strict.minReady).toBe(4);
    expect(strict.predicted.rate503).toBeLessThanOrEqual(0.001);
    expect(strict.predicted.warmHitRate).toBeGreaterThanOrEqual(0.99);
  });

  it('recommends nothing for no arrivals, and says so', () => {
    const advice = advise({ arrivalRatePerSecond: 0, meanSessionSeconds: 60, startSeconds: 2 });
    expect(advice).toMatchObject({ maxTotal: 0, minReady: 0, offeredLoadErlangs: 0 });
    expect(advice.predicted).toEqual({ rate503: 0, warmHitRate: 1 });
    expect(advice.notes.join(' ')).toMatch(/No arrivals/);
  });

  it('never recommends min_ready above max_total', () => {
    // Starts (30 s) longer than sessions (5 s): the warm pool would want more slots than the pool has.
    const advice = advise({ arrivalRatePerSecond: 1, meanSessionSeconds: 5, startSeconds: 30 });
    expect(advice.minReady).toBe(advice.maxTotal);
    expect(advice.predicted.warmHitRate).toBeLessThan(0.95);
    expect(advice.notes.join(' ')).toMatch(/capped at max_total/);
  });

  it('keeps one warm pod when pods start instantly', () => {
    const advice = advise({ arrivalRatePerSecond: 3, meanSessionSeconds: 10, startSeconds: 0 });
    expect(advice.minReady).toBe(1);
    expect(advice.predicted.warmHitRate).toBe(1);
  });

  it('refuses invalid input with a clear error', () => {
    const ok = { arrivalRatePerSecond: 1, meanSessionSeconds: 60, startSeconds: 1 };
    expect(() => advise({ ...ok, arrivalRatePerSecond: -1 })).toThrow(
      /arrival rate must be a finite number >= 0/,
    );
    expect(() => advise({ ...ok, meanSessionSeconds: 0 })).toThrow(
      /mean session length must be a finite number > 0/,
    );
    expect(() => advise({ ...ok, startSeconds: Number.NaN })).toThrow(/start time/);
    expect(() => advise({ ...ok, target503Rate: 0 })).toThrow(/target 503 rate must be a fraction/);
    expect(() => advise({ ...ok, targetWarmHitRate: 1 })).toThrow(/target warm-hit rate must be a fraction/);
  });
});

describe('predict', () => {
  it('gives what given settings yield, the warm pool bounded by max_total', () => {
    const traffic = { arrivalRatePerSecond: 2, meanSessionSeconds: 120, startSeconds: 0.4 };
    const current = predict(traffic, { maxTotal: 10, minReady: 2 });
    expect(current.rate503).toBe(erlangB(10, 240));
    expect(current.warmHitRate).toBe(1 - erlangB(2, 0.8));
    expect(predict(traffic, { maxTotal: 1, minReady: 5 }).warmHitRate).toBe(1 - erlangB(1, 0.8));
    expect(predict(traffic, { maxTotal: 10, minReady: 0 }).warmHitRate).toBe(0);
  });
});
