/**
 * The `label` filter of GET /v1/sessions: `<key>:<value>`. Label keys are free-form and may hold a
 * colon, so a key escapes `:` as `\:` and `\` as `\\`; the first unescaped colon separates key and
 * value, and the value is taken verbatim. Pure: no I/O.
 */

/** Query pattern of one `label` filter (an escaped key, a colon, any value). */
export const LABEL_FILTER_PATTERN = '^(?:[^:\\\\]|\\\\[\\s\\S])+:[\\s\\S]*$';

/** `[key, value]` of one filter, or undefined when it has no unescaped colon or ends mid-escape. */
export function parseLabelFilter(filter: string): [string, string] | undefined {
  let key = '';
  for (let i = 0; i < filter.length; i += 1) {
    const c = filter[i]!;
    if (c === '\\') {
      const next = filter[i + 1];
      if (next === undefined) return undefined;
      key += next;
      i += 1;
    } else if (c === ':') {
      return key === '' ? undefined : [key, filter.slice(i + 1)];
    } else {
      key += c;
    }
  }
  return undefined;
}

/** The filter that selects `key` = `value` (what a client sends as `label=`). */
export function formatLabelFilter(key: string, value: string): string {
  return `${key.replaceAll('\\', '\\\\').replaceAll(':', '\\:')}:${value}`;
}
