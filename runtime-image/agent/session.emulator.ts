/**
 * Applies a session's viewport and user agent to every current and future target of the browser.
 *
 * Emulation overrides belong to the CDP session that set them and vanish when it detaches, so a
 * one-shot "connect, set, disconnect" cannot work: the agent keeps one browser-level connection
 * open for the pod's life, auto-attaches to every target with `waitForDebuggerOnStart`, sends the
 * overrides, then lets the target run. Clients (Playwright, Puppeteer, the proxy's users) keep
 * their own sessions alongside ours; Chromium allows many.
 *
 * Waiting for the debugger alone does not hold every new page for us. A target the browser creates
 * (`Target.createTarget`) waits for every auto-attached session to resume it, but a popup a page
 * opens (`window.open`) runs as soon as any one session resumes it: a client that resumes first
 * sends the popup's document request, and runs its first script, before our overrides arrive
 * (Chromium 156). So the agent also intercepts every document request browser-wide (`Fetch`, at the
 * request stage) and lets one go only once Chromium has taken the overrides of its frame's target; a
 * request that was made before them, with Chromium's own user agent, leaves with the session's. No
 * document, so no script of a page, comes before that. The hold is on while the pod is warm and for
 * as long as the session has a viewport or a user agent; a session with neither has nothing to wait
 * for, and the claim turns it off (`Fetch.disable` also lets go of a request paused at that moment).
 *
 * Nothing here waits for the overrides' answers: a target created with a URL answers none of them
 * until its document has loaded (so waiting would hang it, as it once did when no client resumed
 * it). Chromium handles one connection's commands in order, which is what the agent relies on: the
 * overrides, then the resume, on the target's session; then a browser-level command whose answer
 * says the overrides were taken, before the target's document request may go.
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
/** Every document request of the browser pauses until the agent lets it go (onRequestPaused). */
const DOCUMENT_REQUESTS = {
  patterns: [{ urlPattern: '*', resourceType: 'Document', requestStage: 'Request' }],
};
/** Targets that render a document: they get viewport (top-level only) and user agent overrides. */
const DOCUMENTS = new Set(['page', 'iframe']);
/** Targets that only make requests: they get the user agent for their fetches. */
const WORKERS = new Set(['worker', 'shared_worker', 'service_worker']);

export class SessionEmulator {
  private config: PodSessionConfig = {};
  /** sessionId → target, for every target our connection is attached to. */
  private readonly sessions = new Map<string, TargetInfo>();
  private readonly attachedTargets = new Set<string>();
  /** targetId → settles once Chromium has taken the target's overrides (not their answers). */
  private readonly inForce = new Map<string, Promise<unknown>>();
  /** Chromium's own user agent: a request that carries it was made before our override. */
  private browserUserAgent: string | undefined;
  private started: Promise<void> | undefined;
  /** Whether document requests are held (Fetch enabled on our connection). */
  private holding = false;

  constructor(
    private readonly cdp: CdpConnection,
    private readonly log: Logger,
    /** Headful pods: every page's window fullscreen (no tab strip or address bar on the desktop). */
    private readonly fullscreenWindows = false,
  ) {}

  /**
   * Merges `update` into the session's settings; resolves once applied to every existing target.
   * Documents are held only while there is something to apply before they load: a session with no
   * viewport and no user agent lets them go at once (about 2.5 ms a page load, load-tests/page-load.ts).
   */
  async configure(update: PodSessionConfig): Promise<void> {
    if (update.viewport) this.config.viewport = { ...update.viewport };
    if (update.userAgent !== undefined) this.config.userAgent = update.userAgent;
    await this.attach();
    await this.holdDocuments(this.config.viewport !== undefined || this.config.userAgent !== undefined);
    await Promise.all([...this.sessions].map(([sessionId, target]) => this.apply(sessionId, target.type)));
  }

  /**
   * Turns the browser-wide hold on document requests on or off (`Fetch`, see the top of the file).
   * Turning it on resolves once Chromium holds documents. Turning it off resolves at once: nothing
   * waits for documents to go free (one agent round trip less on the claim), and a document requested
   * before Chromium handles the `Fetch.disable` is let go all the same, by onRequestPaused or by the
   * disable itself.
   */
  private async holdDocuments(hold: boolean): Promise<void> {
    if (hold === this.holding) return;
    this.holding = hold;
    if (hold) {
      await this.cdp.send('Fetch.enable', DOCUMENT_REQUESTS);
      return;
    }
    // Disabling lets go of any request paused now; its onRequestPaused then fails quietly.
    this.cdp.send('Fetch.disable', {}).catch((err: Error) => {
      this.log.warn({ err }, 'session emulator: letting go of documents failed');
    });
  }

  /**
   * Attaches to every target, with no settings yet. The agent calls it while the pod is warm, so the
   * claim only sends the overrides (a claim that comes first attaches here all the same).
   */
  attach(): Promise<void> {
    this.started ??= this.start();
    return this.started;
  }

  private async start(): Promise<void> {
    this.cdp.onEvent((event) => this.onEvent(event));
    ({ userAgent: this.browserUserAgent } = await this.cdp.send<{ userAgent: string }>('Browser.getVersion'));
    // Before auto-attach: no page of ours may load a document the agent has not let go. While warm the
    // session's settings are unknown, so every document is held until the claim says what they are.
    await this.holdDocuments(true);
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
    } else if (event.method === 'Fetch.requestPaused' && !event.sessionId) {
      void this.onRequestPaused(event.params);
    } else if (event.method === 'Target.detachedFromTarget') {
      const sessionId = event.params.sessionId as string;
      const target = this.sessions.get(sessionId);
      if (target) {
        this.attachedTargets.delete(target.targetId);
        this.inForce.delete(target.targetId);
      }
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
    // Sent now, answered whenever (see the top of the file); the resume below follows them in order.
    void this.apply(sessionId, info.type);
    if (DOCUMENTS.has(info.type)) {
      this.cdp.send('Target.setAutoAttach', AUTO_ATTACH, sessionId).catch((err: Error) => {
        this.log.debug({ err, type: info.type }, 'auto-attach to children failed');
      });
    }
    // Chromium handles one connection's messages in order: once a browser-level command sent after
    // the overrides is answered, they are in the target's session, ahead of any document it loads.
    this.inForce.set(
      info.targetId,
      this.cdp.send('Browser.getVersion').catch(() => undefined),
    );
    try {
      // A browser-level command, answered at once: the window is fullscreen before the page runs.
      if (this.fullscreenWindows && info.type === 'page') await fullscreenWindowOf(this.cdp, info.targetId);
    } catch (err) {
      this.log.debug({ err, type: info.type }, 'target setup failed');
    } finally {
      // Always resume: a target we leave waiting would hang forever.
      if (params.waitingForDebugger) {
        await this.cdp.send('Runtime.runIfWaitingForDebugger', {}, sessionId).catch(() => undefined);
      }
    }
  }

  /** A document request paused browser-wide: it goes once its target's overrides are in force. */
  private async onRequestPaused(params: Record<string, unknown>): Promise<void> {
    const requestId = params.requestId as string;
    const request = params.request as { headers: Record<string, string> };
    // A top-level frame's id is its target's; a frame of no target of ours (same-process) waits for nothing.
    await this.inForce.get(params.frameId as string);
    const { userAgent } = this.config;
    const headers = Object.entries(request.headers);
    const agentHeader = headers.find(([name]) => name.toLowerCase() === 'user-agent');
    // Made before the override reached the target: the header is Chromium's own. A client's own
    // user agent override, set on its session, is left as it is.
    const stale =
      userAgent !== undefined && agentHeader !== undefined && agentHeader[1] === this.browserUserAgent;
    const continued = stale
      ? {
          requestId,
          headers: headers.map(([name, value]) => ({
            name,
            value: name === agentHeader[0] ? userAgent : value,
          })),
        }
      : { requestId };
    await this.cdp.send('Fetch.continueRequest', continued).catch((err: Error) => {
      this.log.debug({ err }, 'continue request failed'); // the request was cancelled meanwhile
    });
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
