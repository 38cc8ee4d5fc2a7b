import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatLabelFilter, LABEL_FILTER_PATTERN, parseLabelFilter } from './label-filter.ts';

describe('label filter', () => {
  it('splits at the first unescaped colon; the value is verbatim', () => {
    expect(parseLabelFilter('tenant_dept:rcm')).toEqual(['tenant_dept', 'rcm']);
    expect(parseLabelFilter('Claim batch:2026-05 east')).toEqual(['Claim batch', '2026-05 east']);
    expect(parseLabelFilter('a\\:b:c:d')).toEqual(['a:b', 'c:d']);
    expect(parseLabelFilter('a\\\\:b')).toEqual(['a\\', 'b']);
    expect(parseLabelFilter('no-colon')).toBeUndefined();
    expect(parseLabelFilter(':empty-key')).toBeUndefined();
    expect(parseLabelFilter('dangling\\')).toBeUndefined();
  });

  it('round-trips every key and value, and what it formats matches the query pattern', () => {
    const pattern = new RegExp(LABEL_FILTER_PATTERN, 'u');
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (key, value) => {
        const filter = formatLabelFilter(key, value);
        expect(pattern.test(filter)).toBe(true);
        expect(parseLabelFilter(filter)).toEqual([key, value]);
      }),
    );
  });
});
