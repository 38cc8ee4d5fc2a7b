/**
 * Applies a session's viewport and user agent to every current and future target of the browser.
 *
 * Emulation overrides belong to the CDP session that set them and vanish when it detaches, so a
 * one-shot "connect, set, disconnect" cannot work: the agent keeps one browser-level connection
 * open for the pod's life, auto-attaches to every target with `waitForDebuggerOnStart` (so a new
 * page runs no script and sends no request before its overrides are in place), applies the
 * overrides, then lets the target run. Clients (Playwright, Puppeteer, the proxy's users) keep
 * their own sessions alongside ours; Chromium allows many.
 *
 * On a headful pod it also puts the window of every new page into fullscreen (browser.window.ts), so
 * the live view shows pages only, whatever window a client opens them in.
 */
import type { Logger } from 'pino';
import type { PodSessionConfig } from './protocol.ts';
import type { CdpConnection, CdpEvent } from './cdp.client.ts';
import { fullscreenWindowOf } from './browser.window.ts';

interface TargetInfo {
  targetId: string;
  type: string;
}

const AUTO_ATTACH = { autoAttach: true, waitForDebuggerOnStart: true, flatten: true };
/** Targets that render a document: they get viewport (top-level only) and user agent overrides. */
const DOCUMENTS = new Set(['page', 'iframe']);
/** Targets that only make requests: they get the user agent for their fetches. */
const WORKERS = new Set(['worker', 'shared_worker', 'service_worker']);

export class SessionEmulator {
  private config: PodSessionConfig = {};
  /** sessionId → target, for every target our connection is attached to. */
  private readonly sessions = new Map<string, TargetInfo>();
  private readonly attachedTargets = new Set<string>();
  private started: Promise<void> | undefined;

  constructor(
    private readonly cdp: CdpConnection,
    private readonly log: Logger,
    /** Headful pods: every page's window fullscreen (no tab strip or address bar on the desktop). */
    private readonly fullscreenWindows = false,
  ) {}

  /** Merges `update` into the session's settings; resolves once applied to every existing target. */
  async configure(update: PodSessionConfig): Promise<void> {
    if (update.viewport) this.config.viewport = { ...update.viewport };
    if (update.userAgent !== undefined) this.config.userAgent = update.userAgent;
    // Attach lazily: a warm pod that is never configured pays nothing (no paused page starts).
    this.started ??= this.start();
    await this.started;
    await Promise.all([...this.sessions].map(([sessionId, target]) => this.apply(sessionId, target.type)));
  }

  private async start(): Promise<void> {
    this.cdp.onEvent((event) => this.onEvent(event));
    await this.cdp.send('Target.setAutoAttach', AUTO_ATTACH);
    // Auto-attach reports existing targets too, but an already-open page is the one the first
    // client is most likely to use; attach explicitly to any it did not report.
    const { targetInfos } = await this.cdp.send<{ targetInfos: TargetInfo[] }>('Target.getTargets');
    await Promise.all(
      targetInfos
        .filter((t) => t.type === 'page' && !this.attachedTargets.has(t.targetId))
        .map((t) =>
          this.cdp
            .send('Target.attachToTarget', { targetId: t.targetId, flatten: true })
            .catch((err: Error) => {
              this.log.debug({ err, targetId: t.targetId }, 'attach to existing page failed');
            }),
        ),
    );
  }

  private onEvent(event: CdpEvent): void {
    if (event.method === 'Target.attachedToTarget') {
      void this.onAttached(event.params);
    } else if (event.method === 'Target.detachedFromTarget') {
      const sessionId = event.params.sessionId as string;
      const target = this.sessions.get(sessionId);
      if (target) this.attachedTargets.delete(target.targetId);
      this.sessions.delete(sessionId);
    }
  }

  private async onAttached(params: Record<string, unknown>): Promise<void> {
    const sessionId = params.sessionId as string;
    const info = params.targetInfo as TargetInfo;
    if (this.attachedTargets.has(info.targetId) && !params.waitingForDebugger) {
      // A second session on a target we already hold (explicit attach raced auto-attach): drop it.
      void this.cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
      return;
    }
    this.attachedTargets.add(info.targetId);
    this.sessions.set(sessionId, { targetId: info.targetId, type: info.type });
    try {
      const children = DOCUMENTS.has(info.type)
        ? [this.cdp.send('Target.setAutoAttach', AUTO_ATTACH, sessionId)]
        : [];
      const window =
        this.fullscreenWindows && info.type === 'page' ? [fullscreenWindowOf(this.cdp, info.targetId)] : [];
      await Promise.all([this.apply(sessionId, info.type), ...children, ...window]);
    } catch (err) {
      this.log.debug({ err, type: info.type }, 'target setup failed');
    } finally {
      // Always resume: a target we leave waiting would hang forever.
      if (params.waitingForDebugger) {
        await this.cdp.send('Runtime.runIfWaitingForDebugger', {}, sessionId).catch(() => undefined);
      }
    }
  }

  private async apply(sessionId: string, type: string): Promise<void> {
    const { viewport, userAgent } = this.config;
    const commands: Promise<unknown>[] = [];
    if (type === 'page' && viewport) {
      // deviceScaleFactor 0 keeps the display's own; mobile false keeps desktop layout rules.
      const metrics = { width: viewport.width, height: viewport.height, deviceScaleFactor: 0, mobile: false };
      commands.push(this.cdp.send('Emulation.setDeviceMetricsOverride', metrics, sessionId));
    }
    if (userAgent !== undefined) {
      if (DOCUMENTS.has(type)) {
        commands.push(this.cdp.send('Emulation.setUserAgentOverride', { userAgent }, sessionId));
      }
      if (DOCUMENTS.has(type) || WORKERS.has(type)) {
        commands.push(this.cdp.send('Network.setUserAgentOverride', { userAgent }, sessionId));
      }
    }
    const results = await Promise.allSettled(commands);
    for (const r of results) {
      // A target that closed meanwhile is not an error; log the rest for diagnosis.
      if (r.status === 'rejected') this.log.debug({ err: r.reason as Error, type }, 'override failed');
    }
  }
}
