/**
 * The browser inside a simulated pod: the minimal CDP a raw client needs to round-trip, nothing
 * rendered. Every request `{id, method, params}` is answered: a real result for the methods below,
 * `{}` for any other, and `Sim.echo` returns its params unchanged (throughput tests with payloads as
 * big as a screenshot). No I/O here: the server feeds frames in and sends what comes out.
 */
import { randomBytes } from 'node:crypto';
import type { PodSessionConfig, PodStorageState, RestoredCounts } from '../../core/runtime/driver.ts';

export const SIM_PRODUCT = 'SimChrome/1.0';
const PROTOCOL_VERSION = '1.3';
const DEFAULT_USER_AGENT = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ${SIM_PRODUCT} Safari/537.36`;

interface TargetInfo {
  targetId: string;
  type: 'page';
  title: string;
  url: string;
  attached: boolean;
  canAccessOpener: boolean;
  browserContextId: string;
}

/** What one CDP connection asked for (Target.setDiscoverTargets is per connection). */
export interface CdpConnectionState {
  discover: boolean;
}

/** Frames to send back, in order, and whether to close the connection after them. */
export interface CdpOutcome {
  frames: string[];
  close: boolean;
}

interface Request {
  id: number;
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

// Chromium's target and context ids: 32 upper-case hex digits.
const hexId = (): string => randomBytes(16).toString('hex').toUpperCase();

function parseRequest(raw: string): Request | { error: { code: number; message: string } } {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return { error: { code: -32700, message: 'Message must be a valid JSON' } };
  }
  const m = (typeof msg === 'object' && msg !== null ? msg : {}) as Record<string, unknown>;
  if (!Number.isInteger(m.id))
    return { error: { code: -32600, message: "Message must have integer 'id' property" } };
  if (typeof m.method !== 'string')
    return { error: { code: -32600, message: "Message must have string 'method' property" } };
  const params =
    typeof m.params === 'object' && m.params !== null ? (m.params as Record<string, unknown>) : {};
  return {
    id: m.id as number,
    method: m.method,
    params,
    ...(typeof m.sessionId === 'string' && { sessionId: m.sessionId }),
  };
}

export class SimulatedBrowser {
  private readonly targets = new Map<string, TargetInfo>();
  private readonly contexts = new Set<string>();
  private readonly defaultContextId = hexId();
  private session: PodSessionConfig = {};

  constructor() {
    this.addTarget('about:blank', this.defaultContextId);
  }

  /** The document Chromium serves at /json/version, for a browser reachable at `browserWsUrl`. */
  version(browserWsUrl: string): Record<string, string> {
    return {
      Browser: SIM_PRODUCT,
      'Protocol-Version': PROTOCOL_VERSION,
      'User-Agent': this.userAgent(),
      'V8-Version': '0.0',
      'WebKit-Version': '537.36 (@sim)',
      webSocketDebuggerUrl: browserWsUrl,
    };
  }

  /** The page targets, as Chromium's /json/list describes them. */
  pages(): TargetInfo[] {
    return [...this.targets.values()];
  }

  hasTarget(targetId: string): boolean {
    return this.targets.has(targetId);
  }

  /** Session settings from POST /session: remembered, and visible through Browser.getVersion. */
  configure(config: PodSessionConfig): RestoredCounts | undefined {
    this.session = { ...this.session, ...config };
    const state = config.storageState;
    if (!state) return undefined;
    return {
      cookies: state.cookies?.length ?? 0,
      origins: (state.origins ?? []).map((o) => ({
        origin: o.origin,
        localStorageItems: o.localStorage.length,
      })),
    };
  }

  /** GET /storage-state: what was restored (nothing here changes storage). */
  storageState(): PodStorageState {
    return {
      cookies: this.session.storageState?.cookies ?? [],
      origins: this.session.storageState?.origins ?? [],
    };
  }

  /** Answers one text frame received on `conn`. */
  handle(raw: string, conn: CdpConnectionState): CdpOutcome {
    const req = parseRequest(raw);
    if ('error' in req) return { frames: [JSON.stringify({ id: 0, error: req.error })], close: false };
    const events: unknown[] = [];
    const result = this.answer(req, conn, events);
    const reply = { id: req.id, result, ...(req.sessionId !== undefined && { sessionId: req.sessionId }) };
    return {
      frames: [JSON.stringify(reply), ...events.map((e) => JSON.stringify(e))],
      close: req.method === 'Browser.close',
    };
  }

  private answer(req: Request, conn: CdpConnectionState, events: unknown[]): unknown {
    const p = req.params;
    switch (req.method) {
      case 'Browser.getVersion':
        return {
          protocolVersion: PROTOCOL_VERSION,
          product: SIM_PRODUCT,
          revision: '@sim',
          userAgent: this.userAgent(),
          jsVersion: '0.0',
        };
      case 'Target.getTargets':
        return { targetInfos: this.pages() };
      case 'Target.getBrowserContexts':
        return { browserContextIds: [...this.contexts] };
      case 'Target.createBrowserContext': {
        const browserContextId = hexId();
        this.contexts.add(browserContextId);
        return { browserContextId };
      }
      case 'Target.disposeBrowserContext':
        if (typeof p.browserContextId === 'string') this.contexts.delete(p.browserContextId);
        for (const t of this.targets.values())
          if (t.browserContextId === p.browserContextId) this.targets.delete(t.targetId);
        return {};
      case 'Target.setDiscoverTargets':
        conn.discover = p.discover === true;
        // Like Chromium: turning discovery on reports every existing target.
        if (conn.discover)
          for (const targetInfo of this.targets.values())
            events.push({ method: 'Target.targetCreated', params: { targetInfo } });
        return {};
      case 'Target.createTarget': {
        const context = typeof p.browserContextId === 'string' ? p.browserContextId : this.defaultContextId;
        const targetInfo = this.addTarget(typeof p.url === 'string' ? p.url : 'about:blank', context);
        if (conn.discover) events.push({ method: 'Target.targetCreated', params: { targetInfo } });
        return { targetId: targetInfo.targetId };
      }
      case 'Target.attachToTarget': {
        const targetInfo = typeof p.targetId === 'string' ? this.targets.get(p.targetId) : undefined;
        if (!targetInfo) return {};
        const sessionId = hexId();
        events.push({
          method: 'Target.attachedToTarget',
          params: { sessionId, targetInfo: { ...targetInfo, attached: true }, waitingForDebugger: false },
        });
        return { sessionId };
      }
      case 'Target.closeTarget':
        return { success: typeof p.targetId === 'string' && this.targets.delete(p.targetId) };
      case 'Sim.echo':
        return p;
      default:
        // Browser.close included: answered, then the server closes the connection.
        return {};
    }
  }

  private addTarget(url: string, browserContextId: string): TargetInfo {
    const targetInfo: TargetInfo = {
      targetId: hexId(),
      type: 'page',
      title: url,
      url,
      attached: false,
      canAccessOpener: false,
      browserContextId,
    };
    this.targets.set(targetInfo.targetId, targetInfo);
    return targetInfo;
  }

  private userAgent(): string {
    return this.session.userAgent ?? DEFAULT_USER_AGENT;
  }
}
