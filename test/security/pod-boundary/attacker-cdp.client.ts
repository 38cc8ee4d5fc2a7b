/**
 * The attacker's CDP, from Node: a raw WebSocket to a session's connect_url (or, for the runtime
 * image, to the agent with its secret), with flat target sessions, events, request interception and
 * bounded waits. Everything here is what any CDP client may send; nothing is test-only.
 */
import { once } from 'node:events';
import WebSocket from 'ws';

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: unknown;
  error?: { message: string };
}

type Listener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

/** Bodies served by interception: path (with query) → response. */
export type InterceptedSite = (
  path: string,
) => { status?: number; headers?: Record<string, string>; body: string | Buffer } | undefined;

const COMMAND_TIMEOUT_MS = 20_000;

export class AttackerCdp {
  private nextId = 1;
  private readonly pending = new Map<number, (msg: Message) => void>();
  private readonly listeners = new Set<{ method: string; fn: Listener }>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as Message;
      if (msg.id !== undefined) return this.pending.get(msg.id)?.(msg);
      for (const l of this.listeners) if (l.method === msg.method) l.fn(msg.params ?? {}, msg.sessionId);
    });
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<AttackerCdp> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    await once(ws, 'open');
    return new AttackerCdp(ws);
  }

  async send<T = Record<string, unknown>>(
    method: string,
    params: object = {},
    sessionId?: string,
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<T> {
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<Message>((resolve, reject) => {
      this.pending.set(id, resolve);
      timer = setTimeout(() => reject(new Error(`${method}: no answer in ${timeoutMs} ms`)), timeoutMs);
    });
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }));
    try {
      const msg = await reply;
      if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
      return msg.result as T;
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on(method: string, fn: Listener): () => void {
    const entry = { method, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** The first `method` event that `match` accepts, or undefined after `timeoutMs`. */
  waitFor(
    method: string,
    match: (params: Record<string, unknown>, sessionId: string | undefined) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(undefined);
      }, timeoutMs);
      const off = this.on(method, (params, sessionId) => {
        if (!match(params, sessionId)) return;
        clearTimeout(timer);
        off();
        resolve(params);
      });
    });
  }

  /** A new page (in `browserContextId`, or the default context), attached with a flat session. */
  async openPage(browserContextId?: string): Promise<AttackerPage> {
    const { targetId } = await this.send<{ targetId: string }>('Target.createTarget', {
      url: 'about:blank',
      ...(browserContextId && { browserContextId }),
    });
    const { sessionId } = await this.send<{ sessionId: string }>('Target.attachToTarget', {
      targetId,
      flatten: true,
    });
    await this.send('Page.enable', {}, sessionId);
    return new AttackerPage(this, targetId, sessionId);
  }

  /**
   * Opens each URL in a tab of its own (in `browserContextId`, or the default context), reads the
   * document's text once loaded (bounded), and closes the tab: what a CDP client reads that no page
   * can (another origin's response, a file:// document). Eight tabs at a time.
   */
  async readInTabs(
    urls: string[],
    browserContextId?: string,
  ): Promise<{ url: string; text?: string; error?: string }[]> {
    const queue = urls.map((url, i) => ({ url, i }));
    const out: { url: string; text?: string; error?: string }[] = [];
    const readOne = async (url: string) => {
      const { targetId } = await this.send<{ targetId: string }>('Target.createTarget', {
        url,
        ...(browserContextId && { browserContextId }),
      });
      try {
        const { sessionId } = await this.send<{ sessionId: string }>('Target.attachToTarget', {
          targetId,
          flatten: true,
        });
        const page = new AttackerPage(this, targetId, sessionId);
        for (let attempt = 0; attempt < 60; attempt++) {
          const text = await page
            .evaluate<string | null>(
              // The tab starts on about:blank, complete at once: wait for the URL's own document.
              "document.readyState === 'complete' && location.href !== 'about:blank' ? (document.body ? document.body.innerText : '').slice(0, 20000) : null",
              5_000,
            )
            .catch(() => null);
          if (typeof text === 'string') return { url, text };
          await new Promise((r) => setTimeout(r, 250));
        }
        return { url, error: 'never finished loading' };
      } finally {
        await this.send('Target.closeTarget', { targetId }).catch(() => undefined);
      }
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const { url, i } = next;
          out[i] = await readOne(url).catch((err: unknown) => ({
            url,
            error: err instanceof Error ? err.message : String(err),
          }));
        }
      }),
    );
    return out;
  }

  close(): void {
    this.ws.terminate();
  }
}

export class AttackerPage {
  constructor(
    readonly cdp: AttackerCdp,
    readonly targetId: string,
    readonly sessionId: string,
  ) {}

  /** Serves `origin` (e.g. https://attacker.test) from `site` by request interception: no network. */
  async serve(origin: string, site: InterceptedSite): Promise<void> {
    this.cdp.on('Fetch.requestPaused', (params, sessionId) => {
      if (sessionId !== this.sessionId) return;
      const request = params.request as { url: string };
      const url = new URL(request.url);
      const answer = site(url.pathname + url.search);
      const reply = answer
        ? {
            requestId: params.requestId,
            responseCode: answer.status ?? 200,
            responseHeaders: Object.entries(answer.headers ?? { 'content-type': 'text/html' }).map(
              ([name, value]) => ({ name, value }),
            ),
            body: Buffer.from(answer.body).toString('base64'),
          }
        : { requestId: params.requestId, responseCode: 404, body: '' };
      this.cdp.send('Fetch.fulfillRequest', reply, this.sessionId).catch(() => undefined);
    });
    await this.cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${origin}/*` }] }, this.sessionId);
  }

  /**
   * Navigates and waits (bounded) for the load event. Resolves with Chromium's error text when the
   * navigation failed, else undefined.
   */
  async navigate(url: string, timeoutMs = 10_000): Promise<string | undefined> {
    const loaded = this.cdp.waitFor('Page.loadEventFired', (_p, s) => s === this.sessionId, timeoutMs);
    const result = await this.cdp.send<{ errorText?: string }>('Page.navigate', { url }, this.sessionId);
    await loaded;
    return result.errorText;
  }

  /** Runs `expression` in the page (promises awaited) and returns its JSON value. */
  async evaluate<T>(expression: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<T> {
    const { result, exceptionDetails } = await this.cdp.send<{
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      this.sessionId,
      timeoutMs,
    );
    if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    return result.value as T;
  }

  /** The page's text as a user would read it (document.body.innerText), at most `max` characters. */
  text(max = 20_000): Promise<string> {
    return this.evaluate<string>(`(document.body ? document.body.innerText : '').slice(0, ${max})`);
  }

  /**
   * DOM.setFileInputFiles on the page's `<input type=file id=pick>`, then the page's own FileReader:
   * what the page got of `file` (first 64 KiB, base64), or the error.
   */
  async pickFile(file: string): Promise<{ size?: number; base64?: string; error?: string }> {
    try {
      const { root } = await this.cdp.send<{ root: { nodeId: number } }>(
        'DOM.getDocument',
        { depth: 0 },
        this.sessionId,
      );
      const { nodeId } = await this.cdp.send<{ nodeId: number }>(
        'DOM.querySelector',
        { nodeId: root.nodeId, selector: '#pick' },
        this.sessionId,
      );
      await this.cdp.send('DOM.setFileInputFiles', { files: [file], nodeId }, this.sessionId);
      return await this.evaluate('window.readPickedFile()');
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  close(): Promise<unknown> {
    return this.cdp.send('Target.closeTarget', { targetId: this.targetId }).catch(() => undefined);
  }
}
