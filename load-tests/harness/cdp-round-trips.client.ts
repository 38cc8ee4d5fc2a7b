/**
 * The client side of proxy-floor.ts, in a process of its own, as a user's client is: the service
 * (which the benchmark runs in its own process) is then one more process on the path, woken at each
 * message like any other hop, not a relay inside the client's own process, which is awake anyway.
 *
 * Reads one JSON `RoundTripPlan` on stdin; writes one JSON `RoundTripSamples` on stdout.
 *
 *   node --import tsx load-tests/harness/cdp-round-trips.client.ts < plan.json
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { text } from 'node:stream/consumers';
import WebSocket from 'ws';
import { CdpClient } from './cdp-client.ts';

export interface RoundTripPlan {
  /** Path name → the browser endpoint and the headers to open it with. */
  targets: Record<string, { url: string; headers?: Record<string, string> }>;
  /** `Browser.getVersion` round trips per path, interleaved request by request. */
  roundTrips: number;
  /** Waited before each request (a client doing its own work between messages). */
  idleMs: number;
  /** WebSocket opens per path, interleaved, after 10 uncounted. */
  opens: number;
  /** Paths whose opens are timed (all, when absent). */
  openPaths?: string[];
}

/** Per path: round-trip times in µs, open times in ms. */
export interface RoundTripSamples {
  roundTrips: Record<string, number[]>;
  opens: Record<string, number[]>;
}

/** Opens a WebSocket to `url` and closes it; resolves with the time until it was open, in ms. */
async function timeOpen(url: string, headers?: Record<string, string>): Promise<number> {
  const t = performance.now();
  const ws = new WebSocket(url, { headers });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const opened = performance.now() - t;
  const closed = new Promise((resolve) => ws.once('close', resolve));
  ws.close();
  await closed;
  return opened;
}

async function run(plan: RoundTripPlan): Promise<RoundTripSamples> {
  const clients: Record<string, CdpClient> = {};
  try {
    for (const [name, { url, headers }] of Object.entries(plan.targets))
      clients[name] = await CdpClient.connect(url, 30_000, headers);
    const roundTrips: Record<string, number[]> = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
    for (const c of Object.values(clients)) for (let i = 0; i < 50; i++) await c.send('Browser.getVersion');
    for (let i = 0; i < plan.roundTrips; i++)
      for (const [name, c] of Object.entries(clients)) {
        if (plan.idleMs > 0) await sleep(plan.idleMs);
        const t = performance.now();
        await c.send('Browser.getVersion');
        roundTrips[name]!.push((performance.now() - t) * 1000);
      }
    const openPaths = plan.openPaths ?? Object.keys(plan.targets);
    const opens: Record<string, number[]> = Object.fromEntries(openPaths.map((k) => [k, []]));
    for (let i = 0; i < plan.opens + 10; i++)
      for (const name of openPaths) {
        const { url, headers } = plan.targets[name]!;
        const ms = await timeOpen(url, headers);
        if (i >= 10) opens[name]!.push(ms);
      }
    return { roundTrips, opens };
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.close()));
  }
}

const plan = JSON.parse(await text(process.stdin)) as RoundTripPlan;
process.stdout.write(JSON.stringify(await run(plan)));
process.exit(0);
