/** Shared fixtures of the keys, members and audit API tests. */
import { expect } from 'vitest';
import { ApiClient } from './api-client.ts';
import type { TestContext } from './test-context.ts';
import type { Scope } from '../../core/domain/scopes.ts';

export interface KeyBody {
  id: string;
  name: string | null;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
  api_key?: string;
}
export interface MemberBody {
  id: string;
  email: string;
  role: string;
  created_at: string;
}
export interface AuditBody {
  id: string;
  at: string;
  class: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  detail: Record<string, unknown>;
}
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  has_more: boolean;
}

export const ADMIN_SCOPES: Scope[] = ['sessions:read', 'sessions:write', 'keys:admin', 'audit:read'];
/** `vs_<ULID>.<secret>`: the key id is the ULID. */
export const keyIdOf = (apiKey: string) => apiKey.slice(3, 29);

interface Running {
  ctx: TestContext;
  server: { url: string };
}

/** Helpers bound to a test file's context and server (read when called, after beforeAll). */
export function workspaceHelpers(current: () => Running) {
  /** A fresh workspace with an admin key, and a client for it. */
  async function workspace(scopes: Scope[] = ADMIN_SCOPES) {
    const { apiKey, workspaceId } = await current().ctx.seedKey(scopes);
    return { api: new ApiClient(current().server.url, apiKey), apiKey, keyId: keyIdOf(apiKey), workspaceId };
  }

  async function addMember(api: ApiClient, email: string, role: string) {
    const res = await api.request<MemberBody>('POST', '/v1/members', { body: { email, role } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** A new key made through the API; a client for it. */
  async function createKey(api: ApiClient, scopes: Scope[]) {
    const res = await api.request<KeyBody>('POST', '/v1/keys', { body: { scopes } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { key: res.body, api: new ApiClient(current().server.url, res.body.api_key) };
  }

  async function audit(api: ApiClient, query = '') {
    const res = await api.request<Page<AuditBody>>('GET', `/v1/audit${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }
  return { workspace, addMember, createKey, audit };
}
