/**
 * What any user-space hop costs here, next to what the proxy adds: Browser.getVersion round trips to
 * one RUNNING session's browser through the proxy, directly, and through a bare Node TCP relay
 * (net.createServer + pipe, in this process), interleaved request by request. The `cdp` scenario's
 * target (proxy adds <= 50 µs at p50) is read against the relay's figure: the floor of one more hop.
 *
 *   node --import tsx load-tests/proxy-floor.ts        (N=2000 round trips per path; DRIVER=local)
 */
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { startScratchStack } from './scratch-stack.ts';
import { CdpClient } from './harness/cdp-client.ts';
import { percentiles } from './stats.ts';
const bench = await startScratchStack({
  VENTUS_DRIVER: process.env.DRIVER ?? 'local',
  VENTUS_HEADLESS: 'true',
  VENTUS_POOL_MIN_READY: '1',
  VENTUS_POOL_MAX_TOTAL: '2',
});
const url = bench.stack.url;
const created = (await (
  await fetch(`${url}/v1/sessions`, {
    method: 'POST',
    headers: { ...bench.headers, 'idempotency-key': randomUUID() },
    body: JSON.stringify({ keep_alive_seconds: 60 }),
  })
).json()) as { id: string; connect_url: string };
let route;
for (;;) {
  route = await bench.stack.services.sessionRoutes.get(created.id);
  if (route) break;
  await new Promise((r) => setTimeout(r, 20));
}
const direct = new URL(route.cdpUrl);
const relay = net.createServer((c) => {
  const u = net.connect(Number(direct.port), direct.hostname);
  c.setNoDelay(true);
  u.setNoDelay(true);
  c.pipe(u);
  u.pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
});
await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
const relayUrl = `ws://127.0.0.1:${(relay.address() as net.AddressInfo).port}${direct.pathname}`;
const clients = {
  proxy: await CdpClient.connect(created.connect_url),
  direct: await CdpClient.connect(route.cdpUrl),
  relay: await CdpClient.connect(relayUrl),
};
const samples: Record<string, number[]> = { proxy: [], direct: [], relay: [] };
const N = Number(process.env.N ?? 2000);
for (const c of Object.values(clients)) for (let i = 0; i < 50; i++) await c.send('Browser.getVersion');
for (let i = 0; i < N; i++)
  for (const [k, c] of Object.entries(clients)) {
    const t = performance.now();
    await c.send('Browser.getVersion');
    samples[k]!.push((performance.now() - t) * 1000);
  }
for (const [k, v] of Object.entries(samples)) {
  const p = percentiles(v);
  console.log(k.padEnd(7), 'p50', p.p50.toFixed(1), 'p99', p.p99.toFixed(1), 'µs');
}
const p50 = (k: string) => percentiles(samples[k]!).p50;
console.log(
  'added p50: proxy',
  (p50('proxy') - p50('direct')).toFixed(1),
  'µs; bare relay',
  (p50('relay') - p50('direct')).toFixed(1),
  'µs',
);
for (const c of Object.values(clients)) void c.close();
relay.close();
await bench.close();
process.exit(0);
