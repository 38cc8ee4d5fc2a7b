/** Flag checks and result printing shared by the `ventus load` scenarios (cli/load.command.ts). */

export type Fail = (message: string) => never;

export function httpUrl(flag: string, raw: string, fail: Fail): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // Reported below.
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    fail(`--${flag}=${JSON.stringify(raw)}: expected an http:// or https:// URL`);
  }
  return raw.replace(/\/+$/, '');
}

export function positive(flag: string, raw: string, max: number, fail: Fail, whole = false): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max || (whole && !Number.isInteger(value))) {
    fail(
      `--${flag}=${JSON.stringify(raw)}: expected a ${whole ? 'whole ' : ''}number above 0, at most ${max}`,
    );
  }
  return value;
}

/** `30`, `30s`, `5m`, `1h` -> seconds (at least `min`, at most a day). */
export function duration(raw: string, fail: Fail, flag = 'duration', min = 0): number {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * ({ '': 1, s: 1, m: 60, h: 3600 }[match[2]!] ?? 1) : Number.NaN;
  if (!(seconds > 0 && seconds >= min && seconds <= 86_400)) {
    const floor = min > 0 ? `at least ${min} s, ` : '';
    fail(`--${flag}=${JSON.stringify(raw)}: expected a duration such as 30, 30s or 5m (${floor}at most 24h)`);
  }
  return seconds;
}

/** Report files are `<out>/<BASE>.json` and so on: a plain file name, no path. */
export function fileBase(raw: string, fail: Fail): string {
  if (!/^[\w][\w.-]*$/.test(raw))
    fail(`--name=${JSON.stringify(raw)}: expected letters, digits, '.', '-' or '_'`);
  return raw;
}

/**
 * Prints a measurement's result: the Markdown file on stdout, or with --json one JSON summary
 * (raw samples stay in the JSON file) with the CPU this load generator used, so that a benchmark
 * can tell the generator's share of the machine from the service's.
 */
export async function printMeasurement(
  result: { report: object; files: { markdown: string } },
  json: boolean,
): Promise<void> {
  process.stderr.write(`wrote ${Object.values(result.files).join(', ')}\n`);
  if (!json) {
    const { readFile } = await import('node:fs/promises');
    process.stdout.write(await readFile(result.files.markdown, 'utf8'));
    return;
  }
  const { user, system } = process.cpuUsage();
  const loadGeneratorCpuSeconds = (user + system) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ files: result.files, loadGeneratorCpuSeconds, ...withoutSamples(result.report) })}\n`,
  );
}

/** Drops every `samples` array (at any depth) from a report for the printed summary. */
function withoutSamples(value: object): object {
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) => (key === 'samples' ? undefined : v)),
  ) as object;
}
