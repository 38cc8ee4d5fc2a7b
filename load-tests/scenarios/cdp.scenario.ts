/**
 * `cdp`: what the proxy costs a CDP client. One RUNNING session, two raw WebSockets to the same
 * browser — one through the proxy (`connect_url`), one straight to the browser (`--direct-url`, or
 * a resolver when the caller can see inside the stack) — and, interleaved so that drift on a busy
 * machine falls on both alike:
 *
 * - round trip: sequential `Browser.getVersion` calls (a tiny frame each way), in rounds that
 *   alternate which side goes first; p50/p99 in µs, the difference and the ratio;
 * - throughput: `Page.captureScreenshot` of a page full of noise (a few MB of base64 per frame),
 *   alternating proxy/direct shot by shot (ABBA); bytes received per second of waiting.
 *
 * Not an open-loop run: each side has one request in flight, so what is measured is latency added
 * per hop, not capacity.
 */
import { formatMs, percentiles } from '../stats.ts';
import { CdpClient } from '../harness/cdp-client.ts';
import { machine, type RunEnvironment } from '../harness/environment.ts';
import type { HttpClient } from '../harness/http-client.ts';
import { isFailure, waitForRunning } from './session-life.ts';
import { createSession, releaseSession, unexpected, type SessionView } from './scenario.ts';

/** The targets of the issue: the proxy adds at most this much to the p50 round trip… */
export const TARGET_ADDED_P50_US = 50;
/** …and keeps at least this fraction of direct screenshot throughput. */
export const TARGET_THROUGHPUT_RATIO = 0.9;

const VIEWPORT = { width: 1280, height: 800 };
const WARMUP_ROUND_TRIPS = 20;
const READY_TIMEOUT_MS = 30_000;

/**
 * Where the session's browser answers without the proxy: a `ws://`, `wss://` or `ws+unix://` URL
 * (the `ws` library's form), and the headers it needs (a pod agent wants its secret).
 */
export interface DirectSocket {
  url: string;
  headers?: Record<string, string>;
}

export interface CdpOptions {
  http: HttpClient;
  target: string;
  driver: RunEnvironment['driver'];
  /** Measure this RUNNING session (left running); default: create one and release it at the end. */
  sessionId?: string;
  /** The browser's own CDP socket, or how to find it from the session id; absent: proxy figures only. */
  direct?: DirectSocket | ((sessionId: string) => Promise<DirectSocket>);
  /** `Browser.getVersion` calls per side. */
  roundTrips: number;
  /** Screenshots per side. */
  screenshots: number;
  notes?: string[];
}

export interface MicroStats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface Throughput {
  frames: number;
  bytes: number;
  seconds: number;
  /** 10^6 bytes per second of waiting for answers. */
  mbPerSecond: number;
  /** Median time of one screenshot, ms. */
  p50Ms: number;
}

export interface CdpReport {
  scenario: 'cdp';
  description: string;
  config: { roundTrips: number; rounds: number; screenshots: number; viewport: typeof VIEWPORT };
  environment: RunEnvironment;
  sessionId: string;
  /** Whether the direct socket was checked to reach the browser the proxy leads to. */
  sameBrowser: boolean | null;
  roundTripUs: {
    proxy: MicroStats;
    direct: MicroStats | null;
    addedP50: number | null;
    addedP99: number | null;
    ratioP50: number | null;
  };
  throughput: { proxy: Throughput; direct: Throughput | null; ratio: number | null };
  targets: {
    addedP50: { limitUs: number; met: boolean | null };
    throughputRatio: { limit: number; met: boolean | null };
  };
  notes: string[];
  samples: {
    roundTripUs: { proxy: number[]; direct: number[] };
    screenshotMs: { proxy: number[]; direct: number[] };
  };
}

export const CDP_DESCRIPTION =
  'CDP through the proxy vs straight to the same browser, interleaved: sequential Browser.getVersion ' +
  'round trips, and Page.captureScreenshot throughput of a noise-filled page.';

/**
 * A page whose screenshot does not compress: canvas noise under some text (seeded, so every shot
 * is the same size). A data: URL, so it needs no server the browser can reach.
 */
export function noisePageUrl(): string {
  const html = `<!doctype html><html><head><title>ventus cdp load</title></head>
<body style="margin:0;overflow:hidden"><canvas id="c" style="position:fixed;inset:0"></canvas>
<div style="position:relative;font:14px serif;color:#000;padding:8px">${'Lorem ipsum dolor sit amet. '.repeat(300)}</div>
<script>
const c = document.getElementById('c'); c.width = innerWidth; c.height = innerHeight;
const ctx = c.getContext('2d'); const img = ctx.createImageData(c.width, c.height);
let s = 42;
for (let i = 0; i < img.data.length; i += 4) {
  s = (s * 1103515245 + 12345) >>> 0;
  img.data[i] = s >>> 24; img.data[i + 1] = (s >>> 16) & 255; img.data[i + 2] = (s >>> 8) & 255; img.data[i + 3] = 255;
}
ctx.putImageData(img, 0, 0); window.__ventusReady = true;
</script></body></html>`;
  return `data:text/html;base64,${Buffer.from(html).toString('base64')}`;
}

function microStats(values: number[]): MicroStats {
  const p = percentiles(values);
  const sorted = [...values].sort((a, b) => a - b);
  const p90 = sorted[Math.max(0, Math.ceil(0.9 * sorted.length) - 1)] ?? NaN;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { n: values.length, p50: r(p.p50), p90: r(p90), p99: r(p.p99), max: r(p.max), mean: r(p.mean) };
}

interface Side {
  name: 'proxy' | 'direct';
  client: CdpClient;
  /** The flattened session attached to the page. */
  page: string;
}

/** Attaches to the session's first page (opening one if there is none) and loads the noise page. */
async function attachPage(client: CdpClient, targetId?: string): Promise<{ targetId: string; page: string }> {
  if (!targetId) {
    const { targetInfos } = await client.call<{ targetInfos: Array<{ targetId: string; type: string }> }>(
      'Target.getTargets',
    );
    targetId =
      targetInfos.find((t) => t.type === 'page')?.targetId ??
      (await client.call<{ targetId: string }>('Target.createTarget', { url: 'about:blank' })).targetId;
  }
  const { sessionId } = await client.call<{ sessionId: string }>('Target.attachToTarget', {
    targetId,
    flatten: true,
  });
  await client.call(
    'Emulation.setDeviceMetricsOverride',
    { ...VIEWPORT, deviceScaleFactor: 1, mobile: false },
    sessionId,
  );
  return { targetId, page: sessionId };
}

async function loadNoisePage(side: Side): Promise<void> {
  await side.client.call('Page.navigate', { url: noisePageUrl() }, side.page);
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const { result } = await side.client.call<{ result: { value?: unknown } }>(
      'Runtime.evaluate',
      { expression: 'window.__ventusReady === true', returnByValue: true },
      side.page,
    );
    if (result.value === true) return;
    if (performance.now() > deadline) throw new Error('the noise page did not load within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function roundTrip(side: Side): Promise<number> {
  const t = process.hrtime.bigint();
  await side.client.send('Browser.getVersion');
  return Number(process.hrtime.bigint() - t) / 1000;
}

async function screenshot(side: Side): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const { bytes } = await side.client.send('Page.captureScreenshot', { format: 'png' }, side.page);
  return { ms: performance.now() - t, bytes };
}

function throughput(shots: Array<{ ms: number; bytes: number }>): Throughput {
  const bytes = shots.reduce((n, s) => n + s.bytes, 0);
  const seconds = shots.reduce((n, s) => n + s.ms, 0) / 1000;
  return {
    frames: shots.length,
    bytes,
    seconds: Math.round(seconds * 1000) / 1000,
    mbPerSecond: Math.round((bytes / 1e6 / seconds) * 100) / 100,
    p50Ms: Math.round(percentiles(shots.map((s) => s.ms)).p50 * 100) / 100,
  };
}

async function startSession(http: HttpClient): Promise<SessionView> {
  const created = await createSession(http);
  if (created.status !== 202) throw new Error(`POST /v1/sessions: ${unexpected(created).detail}`);
  const running = await waitForRunning(http, (created.body as SessionView).id);
  if (isFailure(running)) {
    await releaseSession(http, (created.body as SessionView).id).catch(() => {});
    throw new Error(`session did not reach RUNNING: ${running.detail}`);
  }
  return running;
}

export async function runCdp(options: CdpOptions): Promise<CdpReport> {
  const { http } = options;
  const notes = [...(options.notes ?? [])];
  const session = options.sessionId
    ? ((await http.request('GET', `/v1/sessions/${encodeURIComponent(options.sessionId)}`))
        .body as SessionView)
    : await startSession(http);
  if (session?.status !== 'RUNNING' || !session.connect_url) {
    throw new Error(`session ${options.sessionId} is not RUNNING`);
  }
  const sides: Side[] = [];
  let sameBrowser: boolean | null = null;
  try {
    const proxyClient = await CdpClient.connect(session.connect_url);
    const proxyPage = await attachPage(proxyClient);
    sides.push({ name: 'proxy', client: proxyClient, page: proxyPage.page });
    const direct = typeof options.direct === 'function' ? await options.direct(session.id) : options.direct;
    if (direct) {
      const directClient = await CdpClient.connect(direct.url, undefined, direct.headers);
      sides.push({ name: 'direct', client: directClient, page: '' });
      // The page the proxy attached to must exist on the direct socket too: the same browser.
      const { targetInfos } = await directClient.call<{ targetInfos: Array<{ targetId: string }> }>(
        'Target.getTargets',
      );
      sameBrowser = targetInfos.some((t) => t.targetId === proxyPage.targetId);
      if (!sameBrowser) throw new Error('--direct-url leads to another browser than the session’s');
      sides[1]!.page = (await attachPage(directClient, proxyPage.targetId)).page;
    } else {
      notes.push('No direct URL given: proxy figures only (pass --session-id with --direct-url).');
    }
    await loadNoisePage(sides[0]!);

    // Warm-up, untimed: JIT, socket buffers, the first (slower) screenshot.
    for (const side of sides) {
      for (let i = 0; i < WARMUP_ROUND_TRIPS; i++) await roundTrip(side);
      await screenshot(side);
    }
    const rounds = Math.min(10, options.roundTrips);
    const rtt: Record<Side['name'], number[]> = { proxy: [], direct: [] };
    for (let r = 0; r < rounds; r++) {
      const n = Math.floor(options.roundTrips / rounds) + (r < options.roundTrips % rounds ? 1 : 0);
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) for (let i = 0; i < n; i++) rtt[side.name].push(await roundTrip(side));
    }
    const shots: Record<Side['name'], Array<{ ms: number; bytes: number }>> = { proxy: [], direct: [] };
    for (let i = 0; i < options.screenshots; i++) {
      // ABBA: neither side always goes first.
      const order = i % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) shots[side.name].push(await screenshot(side));
    }

    const proxyRtt = microStats(rtt.proxy);
    const directRtt = sides.length > 1 ? microStats(rtt.direct) : null;
    const proxyTp = throughput(shots.proxy);
    const directTp = sides.length > 1 ? throughput(shots.direct) : null;
    const round1 = (v: number) => Math.round(v * 10) / 10;
    const addedP50 = directRtt ? round1(proxyRtt.p50 - directRtt.p50) : null;
    const ratio = directTp ? Math.round((proxyTp.mbPerSecond / directTp.mbPerSecond) * 1000) / 1000 : null;
    notes.push(
      `Screenshots: ${VIEWPORT.width}×${VIEWPORT.height} PNG of canvas noise, ` +
        `${(proxyTp.bytes / proxyTp.frames / 1e6).toFixed(2)} MB per answer frame; ` +
        `a screenshot takes ${formatMs(proxyTp.p50Ms)} (p50, through the proxy), most of it Chrome encoding the PNG.`,
    );
    return {
      scenario: 'cdp',
      description: CDP_DESCRIPTION,
      config: {
        roundTrips: options.roundTrips,
        rounds,
        screenshots: options.screenshots,
        viewport: VIEWPORT,
      },
      environment: {
        target: options.target,
        driver: options.driver,
        machine: machine(),
        date: new Date().toISOString(),
      },
      sessionId: session.id,
      sameBrowser,
      roundTripUs: {
        proxy: proxyRtt,
        direct: directRtt,
        addedP50,
        addedP99: directRtt ? round1(proxyRtt.p99 - directRtt.p99) : null,
        ratioP50: directRtt ? Math.round((proxyRtt.p50 / directRtt.p50) * 1000) / 1000 : null,
      },
      throughput: { proxy: proxyTp, direct: directTp, ratio },
      targets: {
        addedP50: {
          limitUs: TARGET_ADDED_P50_US,
          met: addedP50 === null ? null : addedP50 <= TARGET_ADDED_P50_US,
        },
        throughputRatio: {
          limit: TARGET_THROUGHPUT_RATIO,
          met: ratio === null ? null : ratio >= TARGET_THROUGHPUT_RATIO,
        },
      },
      notes,
      samples: {
        roundTripUs: { proxy: rtt.proxy.map(round1), direct: rtt.direct.map(round1) },
        screenshotMs: {
          proxy: shots.proxy.map((s) => Math.round(s.ms * 100) / 100),
          direct: shots.direct.map((s) => Math.round(s.ms * 100) / 100),
        },
      },
    };
  } finally {
    for (const side of sides) await side.client.close();
    if (!options.sessionId) await releaseSession(http, session.id).catch(() => {});
  }
}
