/**
 * The CDP round trip through the service against Chromium driven directly, and what each hop costs:
 * Browser.getVersion round trips, interleaved request by request, to
 *   - `bare`: a headless shell started here with the same flags (Chromium driven directly);
 *   - `agent`: one RUNNING session's pod agent socket (what the proxy dials: the agent's relay and the
 *     browser's DevTools bridge behind it);
 *   - `bridge` (as root only): the pod browser's DevTools bridge itself (systemd-socket-proxyd into
 *     the browser's network namespace; socat where that is missing), without the agent;
 *   - `proxy`: the same session through the proxy (its `connect_url`);
 *   - `relay`: a bare Node TCP relay to the agent socket (net.createServer + pipe, in this process,
 *     the service's): the floor of one more user-space hop, to read the proxy's figure against.
 *
 * The client runs in a process of its own (harness/cdp-round-trips.client.ts), as a user's does; this
 * process runs the service. (Until 7 December the client ran here too, so the proxy was a relay
 * inside the client's own process, awake anyway, and its hop looked almost free: +4 to +11 µs.)
 *
 * `--idle-ms <ms>` waits that long before each request, as a client that does work of its own between
 * messages (Playwright does) leaves every process on the path idle: each hop's process must then be
 * woken, once each way. 0 (the default) sends back to back.
 *
 * and then, as Playwright's `connectOverCDP` starts, the time to open a WebSocket on each path (until
 * `open`; each closed before the next), interleaved path by path.
 *
 * With VENTUS_KERNEL_RELAY=false the proxy and the agent relay CDP in their own processes, as before
 * the twelfth pass, not in their kernel relays.
 *
 *   [VENTUS_KERNEL_RELAY=false] node --import tsx load-tests/proxy-floor.ts [--round-trips 2000] [--opens 200] [--idle-ms 0]
 *     (DRIVER=local by default)
 */
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cdpRelays, startScratchStack } from './scratch-stack.ts';
import type { RoundTripPlan, RoundTripSamples } from './harness/cdp-round-trips.client.ts';
import { runClientProcess } from './harness/client-process.ts';
import { startHeadlessShell } from './harness/bare-chromium.ts';
import { runningSession } from './harness/scratch-sessions.ts';
import { percentiles } from './stats.ts';
import { describeMachine, machine } from './harness/environment.ts';
import { agentWebSocket } from '../core/runtime/agent.client.ts';
import { AGENT_BROWSER_PATH, agentTarget, type AgentTarget } from '../runtime-image/agent/protocol.ts';

const { values } = parseArgs({
  options: {
    'round-trips': { type: 'string', default: '2000' },
    opens: { type: 'string', default: '200' },
    'idle-ms': { type: 'string', default: '0' },
  },
});
const IDLE_MS = Number(values['idle-ms']);
const N = Number(values['round-trips']);
const OPENS = Number(values.opens);

/** A bare relay on 127.0.0.1 to the agent's endpoint; resolves with its port. */
async function bareRelay(agent: AgentTarget): Promise<net.Server> {
  const relay = net.createServer((c) => {
    const u = net.connect(
      'socketPath' in agent.endpoint
        ? { path: agent.endpoint.socketPath }
        : { host: agent.endpoint.host, port: agent.endpoint.port },
    );
    c.setNoDelay(true);
    if ('port' in agent.endpoint) u.setNoDelay(true);
    c.pipe(u);
    u.pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  return relay;
}

/** The browser endpoint behind the pod's DevTools bridge (its socket sits beside the agent's). */
async function bridgeUrl(agentSocket: string): Promise<string> {
  const socketPath = path.join(path.dirname(path.dirname(agentSocket)), 'bridge', 'devtools.sock');
  const body = await new Promise<string>((resolve, reject) => {
    const req = http.get({ socketPath, path: '/json/version', headers: { host: '127.0.0.1' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
  });
  const browser = new URL((JSON.parse(body) as { webSocketDebuggerUrl: string }).webSocketDebuggerUrl);
  return `ws+unix://${socketPath}:${browser.pathname}`;
}

const shell = await startHeadlessShell();
const bench = await startScratchStack({
  VENTUS_DRIVER: process.env.DRIVER ?? 'local',
  VENTUS_HEADLESS: 'true',
  VENTUS_POOL_MIN_READY: '1',
  VENTUS_POOL_MAX_TOTAL: '2',
});
let relay: net.Server | undefined;
try {
  // The proxy's route is published before RUNNING, so a RUNNING session has one.
  const session = await runningSession(bench, { keep_alive_seconds: 60 });
  const route = await bench.stack.services.sessionRoutes.get(session.id);
  if (!route) throw new Error(`proxy-floor: session ${session.id} has no route`);
  const pod = { id: route.podId, controlUrl: route.controlUrl };
  const direct = agentWebSocket(bench.stack.services.agentAccess, pod, AGENT_BROWSER_PATH);
  const agent = agentTarget(route.cdpUrl);
  relay = await bareRelay(agent);
  const relayUrl = `ws://127.0.0.1:${(relay.address() as net.AddressInfo).port}${agent.path}`;
  const targets: RoundTripPlan['targets'] = {
    bare: { url: shell.wsUrl },
    agent: { url: direct.url, headers: direct.headers },
    relay: { url: relayUrl, headers: direct.headers },
    proxy: { url: session.connect_url },
  };
  if ('socketPath' in agent.endpoint && process.getuid?.() === 0)
    targets.bridge = { url: await bridgeUrl(agent.endpoint.socketPath) };
  const plan: RoundTripPlan = {
    targets,
    roundTrips: N,
    idleMs: IDLE_MS,
    opens: OPENS,
    openPaths: Object.keys(targets).filter((k) => k !== 'relay'),
  };
  const { roundTrips: samples, opens } = await runClientProcess<RoundTripPlan, RoundTripSamples>(
    new URL('./harness/cdp-round-trips.client.ts', import.meta.url),
    plan,
  );

  const p50 = (k: string) => percentiles(samples[k]!).p50;
  console.log(describeMachine(machine()));
  console.log(cdpRelays());
  console.log(
    `Browser.getVersion round trips from a client process of its own, n = ${N} per path, interleaved, ${IDLE_MS} ms idle before each (µs)`,
  );
  for (const [k, v] of Object.entries(samples)) {
    const p = percentiles(v);
    console.log(`${k.padEnd(6)} p50 ${p.p50.toFixed(1)}  p99 ${p.p99.toFixed(1)}`);
  }
  const added = (a: string, b: string) => `${(p50(a) - p50(b)).toFixed(1)} µs`;
  console.log(
    `the proxy adds ${added('proxy', 'agent')} over the agent socket (a bare relay in the same process: ${added('relay', 'agent')})`,
  );
  console.log(
    `the pod adds ${added('agent', 'bare')} over bare Chromium; the service in all ${added('proxy', 'bare')}`,
  );

  console.log(`\nWebSocket opens, n = ${OPENS} per path after 10, interleaved (ms)`);
  for (const [k, v] of Object.entries(opens)) {
    const p = percentiles(v);
    console.log(`${k.padEnd(6)} p50 ${p.p50.toFixed(2)}  p99 ${p.p99.toFixed(2)}`);
  }
} finally {
  relay?.close();
  await bench.close();
  await shell.stop();
}
process.exit(0);
