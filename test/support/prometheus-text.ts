/**
 * A small parser for the Prometheus text exposition format (0.0.4), enough to assert on scrapes:
 * HELP and TYPE lines, and samples with labels (escaped values included) and a value.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  help: Map<string, string>;
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export function parseExposition(text: string): Exposition {
  const out: Exposition = { samples: [], help: new Map(), types: new Map() };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? out.help : out.types).set(meta[2]!, meta[3]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = unescape(l[2]!);
    out.samples.push({ name: m[1]!, labels, value: parseValue(m[3]!) });
  }
  return out;
}

/** Samples named `name` whose labels include every one of `labels`. */
export function samples(expo: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return expo.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The one sample named `name` with exactly these labels (undefined when absent). */
export function value(
  expo: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.keys(labels).length;
  return samples(expo, name, labels).find((s) => Object.keys(s.labels).length === wanted)?.value;
}

/** Fetches and parses `GET {baseUrl}/metrics`. */
export async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await fetch(`${baseUrl}/metrics`, { headers });
  if (res.status !== 200) throw new Error(`GET /metrics -> ${res.status}: ${await res.text()}`);
  return parseExposition(await res.text());
}

/** Scrapes until `predicate` holds (or fails after `timeoutMs`), returning the last scrape. */
export async function scrapeUntil(
  baseUrl: string,
  predicate: (expo: Exposition) => boolean,
  timeoutMs = 30_000,
): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const expo = await scrape(baseUrl);
    if (predicate(expo)) return expo;
    if (Date.now() > deadline) throw new Error('metrics never reached the expected state');
    await new Promise((r) => setTimeout(r, 50));
  }
}
