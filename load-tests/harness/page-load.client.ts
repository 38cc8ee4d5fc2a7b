/**
 * The client side of page-load.ts, in a process of its own, as a user's client is: the service
 * (which the benchmark runs in its own process) is then one more process on the path, woken at each
 * message like any other hop, not a relay inside the client's own process, which is awake anyway.
 *
 * On every path, interleaved in a new random order every round, after a warm-up: `goto` the local
 * page until `load`, then `page.evaluate('1')` round trips. The `pipe` path's browser is launched
 * here by Playwright (it drives it over a pipe); the others are reached with `connectOverCDP`.
 *
 * Reads one JSON `PageLoadPlan` on stdin; writes one JSON `PageLoadSamples` on stdout.
 *
 *   node --import tsx load-tests/harness/page-load.client.ts < plan.json
 */
import { text } from 'node:stream/consumers';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HEADLESS_SHELL, QUIET_FLAGS } from './bare-chromium.ts';

export interface PageLoadPlan {
  /** Path name → the browser's CDP WebSocket URL; `pipe` for one launched here. */
  paths: Record<string, string>;
  /** The page to load (a query makes each load's URL new). */
  pageUrl: string;
  loads: number;
  warmup: number;
  /** `page.evaluate('1')` round trips per path. */
  roundTrips: number;
}

/** Per path, in ms: page loads, and `page.evaluate` round trips. */
export interface PageLoadSamples {
  loads: Record<string, number[]>;
  roundTrips: Record<string, number[]>;
}

function shuffled<T>(list: readonly T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * `rounds` rounds of `step` on every path, in a new random order each round (a load that follows
 * one in the same browser is faster); ms per path, the first `warmup` rounds left out.
 */
async function interleaved(
  names: string[],
  rounds: number,
  warmup: number,
  step: (name: string, round: number) => Promise<unknown>,
): Promise<Record<string, number[]>> {
  const out = Object.fromEntries(names.map((name) => [name, [] as number[]]));
  for (let i = 0; i < warmup + rounds; i++) {
    for (const name of shuffled(names)) {
      const t0 = performance.now();
      await step(name, i);
      if (i >= warmup) out[name]!.push(performance.now() - t0);
    }
  }
  return out;
}

async function run(plan: PageLoadPlan): Promise<PageLoadSamples> {
  const browsers: Browser[] = [];
  try {
    const pages: Record<string, Page> = {};
    for (const [name, url] of Object.entries(plan.paths)) {
      if (url === 'pipe') {
        const launched = await chromium.launch({ executablePath: HEADLESS_SHELL, args: QUIET_FLAGS });
        browsers.push(launched);
        pages[name] = await (await launched.newContext()).newPage();
      } else {
        const browser = await chromium.connectOverCDP(url);
        browsers.push(browser);
        pages[name] = await browser.contexts()[0]!.newPage();
      }
    }
    const names = Object.keys(pages);
    const loads = await interleaved(names, plan.loads, plan.warmup, (name, i) =>
      pages[name]!.goto(`${plan.pageUrl}?${name}-${i}`, { waitUntil: 'load' }),
    );
    const roundTrips = await interleaved(names, plan.roundTrips, 0, (name) => pages[name]!.evaluate('1'));
    return { loads, roundTrips };
  } finally {
    for (const browser of browsers) await browser.close();
  }
}

const plan = JSON.parse(await text(process.stdin)) as PageLoadPlan;
process.stdout.write(JSON.stringify(await run(plan)));
process.exit(0);
