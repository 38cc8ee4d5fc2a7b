/** VentusClient: create sessions the safe way, read and list them, keep them alive, release them. */
import { HttpTransport, type RequestOptions } from './http.js';
import { paginate, type CursorPage } from './pagination.js';
import type { RetryOptions } from './retry.js';
import { Session, waitSecondsBefore, type CallOptions, type SessionApi } from './session.js';
import type {
  CreateSessionParams,
  ListItem,
  LiveViewLink,
  ListPath,
  ListQuery,
  ListSessionsQuery,
  SessionResource,
} from './types.js';

export interface VentusClientOptions {
  /** Default: `VENTUS_BASE_URL`, else http://localhost:8080. */
  baseUrl?: string;
  /** A workspace API key (`vs_…`). Default: `VENTUS_API_KEY`. */
  apiKey?: string;
  /** A fetch implementation (a proxy agent, instrumentation, a test double). Default: global fetch. */
  fetch?: typeof fetch;
  retry?: RetryOptions;
  /** Deadline of a call, retries included, in ms. Default 30000. */
  timeoutMs?: number;
}

export interface CreateSessionOptions {
  /** Wait until the session is RUNNING before resolving. Default false (resolves with QUEUED). */
  wait?: boolean;
  /** Default: a fresh UUID, kept across this call's own retries. Pass your own to dedupe across processes. */
  idempotencyKey?: string;
  /** Deadline of the whole call (retries on 503/429 and the wait for RUNNING), in ms. Default 60000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class VentusClient implements SessionApi {
  private readonly http: HttpTransport;

  constructor(options: VentusClientOptions = {}) {
    this.http = new HttpTransport({
      baseUrl: options.baseUrl ?? process.env.VENTUS_BASE_URL ?? 'http://localhost:8080',
      apiKey: options.apiKey ?? process.env.VENTUS_API_KEY,
      fetch: options.fetch ?? globalThis.fetch,
      retry: options.retry ?? {},
      timeoutMs: options.timeoutMs ?? 30_000,
    });
  }

  /**
   * Creates a session. One Idempotency-Key covers every attempt, so a retry after a lost response
   * returns the session the first attempt created instead of creating a second one. 503 (no capacity)
   * and 429 are retried with jittered backoff, honouring Retry-After, until `timeoutMs`. With
   * `wait: true` the session is RUNNING on return; if it cannot get there, it is released (nobody
   * holds a handle to it) and the error is thrown.
   */
  async createSession(
    params: CreateSessionParams = {},
    options: CreateSessionOptions = {},
  ): Promise<Session> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const idempotencyKey = options.idempotencyKey ?? crypto.randomUUID();
    const { body } = await this.http.request<SessionResource>('POST', '/v1/sessions', {
      body: params,
      // With `wait`, the create's own answer is held until RUNNING (RFC 7240): usually no second request.
      headers: {
        'idempotency-key': idempotencyKey,
        ...(options.wait && { prefer: `wait=${waitSecondsBefore(deadline)}` }),
      },
      retry: 'idempotent',
      deadline,
      signal: options.signal,
    });
    const session = new Session(this, body, idempotencyKey);
    if (!options.wait) return session;
    try {
      return await session.waitUntilRunning({ deadline, signal: options.signal });
    } catch (err) {
      await session.release().catch(() => {});
      throw err;
    }
  }

  /** A handle on an existing session (e.g. one created elsewhere with keep_alive_seconds > 0). */
  async session(id: string, options?: CallOptions): Promise<Session> {
    return new Session(this, await this.getSession(id, options));
  }

  /**
   * The session. With `waitSeconds` (1 to 60), a QUEUED or PROVISIONING session is answered once it
   * is RUNNING or ended, or after that many seconds: one request instead of polling.
   */
  async getSession(
    id: string,
    { waitSeconds, ...options }: CallOptions & { waitSeconds?: number } = {},
  ): Promise<SessionResource> {
    return this.call<SessionResource>(
      'GET',
      `/v1/sessions/${encodeURIComponent(id)}`,
      options,
      waitSeconds === undefined ? {} : { query: { wait_seconds: waitSeconds } },
    );
  }

  /** Not retried after a lost response: a keep-alive applied twice extends twice. */
  async keepAlive(id: string, seconds = 600, options?: CallOptions): Promise<SessionResource> {
    return this.call<SessionResource>('POST', `/v1/sessions/${encodeURIComponent(id)}:keepalive`, options, {
      body: { extend_seconds: seconds },
      retry: 'rejected-only',
    });
  }

  /** Releases a session (safe to repeat: releasing a COMPLETED session returns it unchanged). */
  async release(id: string, options?: CallOptions): Promise<SessionResource> {
    return this.call<SessionResource>('PATCH', `/v1/sessions/${encodeURIComponent(id)}`, options, {
      body: { status: 'REQUEST_RELEASE' },
    });
  }

  /**
   * A link to watch the session's browser (headful sessions), valid 5 minutes to open. Read-only
   * unless `interactive` (needs `sessions:write`: the viewer's keyboard and mouse reach the browser).
   * Every link is audited; `reason` is recorded with it.
   */
  async liveView(
    id: string,
    params: { interactive?: boolean; reason?: string } = {},
    options?: CallOptions,
  ): Promise<LiveViewLink> {
    return this.call<LiveViewLink>('POST', `/v1/sessions/${encodeURIComponent(id)}/live-view`, options, {
      body: { interactive: params.interactive ?? false },
      // Each link is an audit row: a lost response is not silently asked for twice.
      retry: 'rejected-only',
      ...(params.reason !== undefined && { headers: { 'x-reason': params.reason } }),
    });
  }

  /** Every session matching `query`, oldest first, page by page (`limit` is the page size). */
  listSessions(query: ListSessionsQuery = {}, options?: CallOptions): AsyncGenerator<SessionResource, void> {
    return this.list('/v1/sessions', query, options);
  }

  /** Every item of a cursor-paginated list (`/v1/sessions`, `/v1/profiles`, `/v1/audit`, …). */
  list<P extends ListPath>(
    path: P,
    query?: ListQuery<P>,
    options?: CallOptions,
  ): AsyncGenerator<ListItem<P>, void> {
    return paginate((cursor) =>
      this.call<CursorPage<ListItem<P>>>('GET', path, options, {
        query: { ...(query as RequestOptions['query']), cursor },
      }),
    );
  }

  private async call<T>(
    method: string,
    path: string,
    options: CallOptions = {},
    request: RequestOptions = {},
  ): Promise<T> {
    const res = await this.http.request<T>(method, path, { ...request, ...options });
    return res.body;
  }
}
