/**
 * Session lifecycles as careful clients run them while faults happen: every call has a deadline, a
 * create is retried with the same Idempotency-Key until it gets an answer, and every answer is
 * classified. A call that reaches its deadline is a hang (a violation); a 5xx other than a 503
 * problem document is a violation; a refused or cut connection is allowed (a process was killed).
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export type LifecycleKind = 'release' | 'cdp' | 'keepalive' | 'expire';

export interface TrafficOptions {
  brokerUrl: string;
  apiKey: string;
  /**
   * Deadline of one HTTP call (ms; CDP steps get twice it); reaching it counts as a hang. Default
   * 30 s: above the longest wait the broker is designed to take (10 s for a duplicate create in
   * flight), with room for a small machine busy restarting processes.
   */
  callDeadlineMs?: number;
  /** How long a lifecycle keeps retrying through a fault (ms). */
  patienceMs?: number;
  /** Body of every create (e.g. a short `timeout_seconds` for expiries). */
  createBody?: Record<string, unknown>;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const TERMINAL = ['COMPLETED', 'EXPIRED', 'ERRORED'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts and records of everything the clients saw. */
export class Traffic {
  /** Idempotency-Key -> every session id answered for it (more than one is a duplicate). */
  readonly answered = new Map<string, Set<string>>();
  /** Keys whose create never got an answer within the patience (the client gave up). */
  readonly unanswered = new Set<string>();
  /** `POST /v1/sessions 202`, `… 503 insufficient-capacity`, `… network`… */
  readonly outcomes = new Map<string, number>();
  readonly violations: string[] = [];
  readonly lifecycles = new Map<LifecycleKind, number>();
  cdpSessions = 0;
  private inFlight = 0;
  private readonly deadlineMs: number;
  private readonly patienceMs: number;

  constructor(private readonly options: TrafficOptions) {
    this.deadlineMs = options.callDeadlineMs ?? 30_000;
    this.patienceMs = options.patienceMs ?? 60_000;
  }

  get active(): number {
    return this.inFlight;
  }

  private count(what: string): void {
    this.outcomes.set(what, (this.outcomes.get(what) ?? 0) + 1);
  }

  private violation(what: string): void {
    if (this.violations.length < 200) this.violations.push(`${new Date().toISOString()} ${what}`);
  }

  /** One HTTP call with a deadline; undefined when the connection failed (refused, reset). */
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const label = `${method} ${path.replace(/[0-9A-HJKMNP-TV-Z]{26}/g, '{id}')}`;
    let res: Response;
    try {
      res = await fetch(this.options.brokerUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.deadlineMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        this.count(`${label} hang`);
        this.violation(`${label}: no answer within ${this.deadlineMs} ms`);
      } else this.count(`${label} network`);
      return undefined;
    }
    let parsed: Record<string, unknown> = {};
    try {
      const text = await res.text();
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') this.violation(`${label}: body not sent within deadline`);
      this.count(`${label} network`);
      return undefined;
    }
    const type = typeof parsed.type === 'string' ? parsed.type.split('/').at(-1) : undefined;
    this.count(`${label} ${res.status}${res.status >= 400 && type ? ` ${type}` : ''}`);
    const problem = res.headers.get('content-type')?.startsWith('application/problem+json');
    if (res.status >= 400 && !problem) this.violation(`${label}: ${res.status} without a problem document`);
    if (res.status >= 500 && res.status !== 503)
      this.violation(`${label}: ${res.status} ${JSON.stringify(parsed)}`);
    return { status: res.status, body: parsed } satisfies Answer;
  }

  /**
   * Retries `fn` while it answers nothing, a 503 service-unavailable or a 429 (and, for a create, a
   * 409: its Idempotency-Key is still marked in flight by a broker that died), until the patience ends.
   */
  private async patiently(
    fn: () => Promise<Answer | undefined>,
    retryConflict = false,
  ): Promise<Answer | undefined> {
    const giveUp = Date.now() + this.patienceMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
      const answer = await fn();
      const retry =
        answer === undefined ||
        answer.status === 429 ||
        (answer.status === 409 && retryConflict) ||
        (answer.status === 503 && String(answer.body.type).endsWith('/service-unavailable'));
      if (!retry || Date.now() > giveUp) return answer;
      await sleep(wait);
    }
  }

  /** Creates a session (same key on every retry); its id, or undefined (refused or no answer). */
  async create(body: Record<string, unknown> = {}): Promise<string | undefined> {
    const key = randomUUID();
    const answer = await this.patiently(
      () =>
        this.call(
          'POST',
          '/v1/sessions',
          { ...this.options.createBody, ...body },
          { 'idempotency-key': key },
        ),
      true,
    );
    if (!answer) {
      this.unanswered.add(key);
      return undefined;
    }
    if (answer.status !== 202 && answer.status !== 200) return undefined;
    const id = String(answer.body.id);
    const ids = this.answered.get(key) ?? new Set<string>();
    ids.add(id);
    this.answered.set(key, ids);
    if (ids.size > 1) this.violation(`key ${key} answered with ${[...ids].join(', ')}`);
    return id;
  }

  /** Polls until RUNNING or ended (or the patience runs out); the last status seen. */
  async waitRunning(id: string): Promise<Record<string, unknown> | undefined> {
    const giveUp = Date.now() + this.patienceMs;
    let last: Record<string, unknown> | undefined;
    while (Date.now() < giveUp) {
      const answer = await this.call('GET', `/v1/sessions/${id}`);
      if (answer?.status === 200) {
        last = answer.body;
        if (answer.body.status === 'RUNNING' || TERMINAL.includes(String(answer.body.status))) return last;
      }
      await sleep(answer ? 100 : 300);
    }
    return last;
  }

  async release(id: string): Promise<void> {
    await this.patiently(() => this.call('PATCH', `/v1/sessions/${id}`, { status: 'REQUEST_RELEASE' }));
  }

  /** Connects over CDP, asks for the version and hangs up; false when it could not. */
  async cdpRoundTrip(connectUrl: string): Promise<boolean> {
    // Twice the HTTP deadline: a wedged browser's socket is closed once the controller's probes fail.
    const limit = 2 * this.deadlineMs;
    const ws = new WebSocket(connectUrl, { handshakeTimeout: limit, perMessageDeflate: false });
    const deadline = AbortSignal.timeout(limit);
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', (err: Error & { code?: string }) => reject(new Error(err.code ?? 'error')));
        ws.once('unexpected-response', (_req, res) => {
          res.resume();
          reject(new Error(String(res.statusCode)));
        });
      });
      const answered = await new Promise<boolean>((resolve) => {
        ws.once('message', () => resolve(true));
        ws.once('close', () => resolve(false)); // a closed socket is an answer, not a hang
        deadline.addEventListener('abort', () => resolve(false));
        ws.send(JSON.stringify({ id: 1, method: 'Browser.getVersion' }));
      });
      if (deadline.aborted && ws.readyState === WebSocket.OPEN) {
        this.count('CDP hang');
        this.violation(`CDP: no answer and no close within ${limit} ms`);
      } else this.count(answered ? 'CDP answered' : 'CDP closed');
      return answered;
    } catch (err) {
      this.count(`CDP refused ${(err as Error).message}`);
      return false;
    } finally {
      ws.terminate();
    }
  }

  /** One whole lifecycle of `kind`; never throws. */
  async lifecycle(kind: LifecycleKind): Promise<void> {
    this.inFlight += 1;
    this.lifecycles.set(kind, (this.lifecycles.get(kind) ?? 0) + 1);
    try {
      const id = await this.create(kind === 'expire' ? { timeout_seconds: 60 } : {});
      if (!id) return;
      const session = await this.waitRunning(id);
      if (session?.status !== 'RUNNING') return;
      if (kind === 'cdp') {
        this.cdpSessions += 1;
        // keep_alive_seconds 0: the last disconnect releases it; the PATCH after covers a refused connect.
        if (await this.cdpRoundTrip(String(session.connect_url))) await sleep(200);
        else await this.release(id);
        return;
      }
      if (kind === 'expire') return; // left to its expire job
      if (kind === 'keepalive')
        await this.patiently(() =>
          this.call('POST', `/v1/sessions/${id}:keepalive`, { extend_seconds: 120 }),
        );
      await sleep(100 + Math.random() * 400);
      await this.release(id);
    } catch (err) {
      this.violation(`lifecycle ${kind} threw: ${String(err)}`);
    } finally {
      this.inFlight -= 1;
    }
  }

  /**
   * Open-loop arrivals at `rate` per second for `durationMs` (skipped when `maxInFlight` lifecycles
   * are running), each of a kind drawn by `pick`. Resolves when every started lifecycle has finished.
   */
  async run(options: {
    durationMs: number;
    rate: number;
    maxInFlight: number;
    pick: () => LifecycleKind;
    stop?: AbortSignal;
  }): Promise<void> {
    const running = new Set<Promise<void>>();
    const end = Date.now() + options.durationMs;
    const gap = 1000 / options.rate;
    for (let next = Date.now(); Date.now() < end && !options.stop?.aborted; next += gap) {
      if (this.inFlight < options.maxInFlight) {
        const lifecycle: Promise<void> = this.lifecycle(options.pick()).finally(() =>
          running.delete(lifecycle),
        );
        running.add(lifecycle);
      } else this.count('arrival skipped (client cap)');
      await sleep(Math.max(0, next + gap - Date.now()));
    }
    await Promise.all(running);
  }
}
