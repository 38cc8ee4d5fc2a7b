/** A thin HTTP client for the REST API, as a user would call it. */
import { randomUUID } from 'node:crypto';
import { OpenApiContract } from './openapi-contract.ts';

/** One contract per server, loaded on first use; every response is checked against it. */
const contracts = new Map<string, Promise<OpenApiContract>>();

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string | undefined,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await res.text();
    const parsed = (text ? JSON.parse(text) : undefined) as T;
    if (!contracts.has(this.baseUrl)) contracts.set(this.baseUrl, OpenApiContract.load(this.baseUrl));
    const problems = (await contracts.get(this.baseUrl)!).check(
      method,
      res.url,
      res.status,
      res.headers,
      parsed,
    );
    if (problems.length > 0) throw new Error(`response breaks /openapi.json:\n  ${problems.join('\n  ')}`);
    return { status: res.status, headers: res.headers, body: parsed };
  }

  createSession(body: Record<string, unknown> = {}, key: string = randomUUID()) {
    return this.request<SessionBody>('POST', '/v1/sessions', { body, headers: { 'idempotency-key': key } });
  }

  getSession(id: string) {
    return this.request<SessionBody>('GET', `/v1/sessions/${id}`);
  }

  release(id: string) {
    return this.request<SessionBody>('PATCH', `/v1/sessions/${id}`, { body: { status: 'REQUEST_RELEASE' } });
  }

  /** Polls until the session reaches one of `statuses` (or fails after `timeoutMs`). */
  async waitFor(id: string, statuses: string[], timeoutMs = 30_000): Promise<SessionBody> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.getSession(id);
      if (statuses.includes(res.body.status)) return res.body;
      if (Date.now() > deadline)
        throw new Error(`session ${id} is ${res.body.status}, wanted ${statuses.join('|')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

export interface SessionBody {
  id: string;
  status: string;
  connect_url: string;
  live_view_url: string;
  release_reason: string | null;
  released_at: string | null;
  expires_at: string;
  created_at: string;
  [key: string]: unknown;
}
