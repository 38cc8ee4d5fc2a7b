/** A load scenario: what one arrival does against a deployment, over its public HTTP API only. */
import { randomUUID } from 'node:crypto';
import type { HttpClient, HttpResponse } from '../harness/http-client.ts';
import type { Task } from '../harness/scheduler.ts';

export interface ScenarioContext {
  target: string;
  /** Sends the API key on every request. */
  http: HttpClient;
  /** The page `lifecycle` opens; default: one the harness serves on 127.0.0.1. */
  pageUrl?: string;
}

export interface PreparedScenario {
  task: Task;
  /** Waits for background work (releases) and frees what `prepare` opened. */
  close(): Promise<void>;
  notes: string[];
}

export interface Scenario {
  name: string;
  description: string;
  /** Steps each arrival marks, in order (empty: one step, the whole request). */
  steps: string[];
  /** The answers that are not errors (always shown in the report, if only as 0). */
  outcomes: string[];
  prepare(ctx: ScenarioContext): Promise<PreparedScenario>;
}

export interface SessionView {
  id: string;
  status: string;
  connect_url?: string;
}

export function createSession(http: HttpClient): Promise<HttpResponse> {
  return http.request('POST', '/v1/sessions', { body: {}, headers: { 'idempotency-key': randomUUID() } });
}

export function releaseSession(http: HttpClient, id: string): Promise<HttpResponse> {
  return http.request('PATCH', `/v1/sessions/${encodeURIComponent(id)}`, {
    body: { status: 'REQUEST_RELEASE' },
  });
}

/** `http_<status>` plus the problem title, for answers a scenario did not expect. */
export function unexpected(res: HttpResponse): { outcome: string; error: true; detail: string } {
  const body = res.body as { title?: unknown; type?: unknown } | undefined;
  const title = typeof body?.title === 'string' ? body.title : '';
  return { outcome: `http_${res.status}`, error: true, detail: `${res.status} ${title}`.trim() };
}

/** Background requests a scenario starts and must see finish before the run ends. */
export class Pending {
  private readonly set = new Set<Promise<unknown>>();

  add(p: Promise<unknown>): void {
    const tracked = p.catch(() => {});
    this.set.add(tracked);
    void tracked.finally(() => this.set.delete(tracked));
  }

  async drain(): Promise<void> {
    while (this.set.size > 0) await Promise.all([...this.set]);
  }
}
