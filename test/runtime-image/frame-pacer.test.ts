/**
 * The screencast pacer (runtime-image/agent/frame-pacer.ts) keeps at most `fps` frames a second and
 * never loses the last one: a page's final paint reaches the recording and the live view even when
 * it came right after another frame. The clock is the only double.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FramePacer } from '../../runtime-image/agent/frame-pacer.ts';

describe('FramePacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const pacer = () => {
    const delivered: [string, number][] = [];
    const p = new FramePacer<string>(10, (frame, atMs) => delivered.push([frame, atMs]));
    return { p, delivered };
  };

  it('hands on a frame at once when the last one is a period old', () => {
    const { p, delivered } = pacer();
    p.push('a', performance.now());
    expect(delivered.map(([f]) => f)).toEqual(['a']);
    vi.advanceTimersByTime(150);
    p.push('b', performance.now());
    expect(delivered.map(([f]) => f)).toEqual(['a', 'b']);
  });

  it('samples a burst: the newest frame of it arrives one period later, the ones between never', () => {
    const { p, delivered } = pacer();
    p.push('first', performance.now());
    vi.advanceTimersByTime(10);
    p.push('between', performance.now());
    vi.advanceTimersByTime(10);
    p.push('last', performance.now());
    expect(delivered.map(([f]) => f)).toEqual(['first']);
    vi.advanceTimersByTime(79);
    expect(delivered.map(([f]) => f)).toEqual(['first']);
    vi.advanceTimersByTime(1);
    expect(delivered).toEqual([
      ['first', 0],
      ['last', 20],
    ]);
    vi.advanceTimersByTime(1_000);
    expect(delivered).toHaveLength(2);
  });

  it('flush() hands on the waiting frame now; cancel() drops it', () => {
    const { p, delivered } = pacer();
    p.push('a', performance.now());
    p.push('b', performance.now());
    p.flush();
    expect(delivered.map(([f]) => f)).toEqual(['a', 'b']);
    p.push('c', performance.now());
    p.cancel();
    vi.advanceTimersByTime(1_000);
    expect(delivered.map(([f]) => f)).toEqual(['a', 'b']);
  });
});
