/** Shared fixtures of the profiles API tests. */
import { expect } from 'vitest';
import type { ApiClient, ApiResponse } from './api-client.ts';
import type { Scope } from '../../core/domain/scopes.ts';

export const ALL: Scope[] = ['sessions:read', 'sessions:write', 'profiles:read', 'profiles:write'];
export const MISSING_ULID = '01JC1AMQX4N3PWV9MR2BCKDH7E';

/** A storage_state whose secret values are easy to search for in responses and audit rows. */
export function state(secret: string) {
  return {
    cookies: [{ name: 'sid', value: `cookie-${secret}`, domain: 'example.com', path: '/', httpOnly: true }],
    origins: [{ origin: 'https://example.com', localStorage: [{ name: 'token', value: `ls-${secret}` }] }],
  };
}

export interface ProfileBody {
  id: string;
  name: string;
  latest_version: number;
  created_at: string;
  updated_at: string;
  [key: string]: unknown;
}

export interface VersionBody {
  profile_id: string;
  version: number;
  created_at: string;
  storage_state?: unknown;
  [key: string]: unknown;
}

export interface ListBody {
  items: ProfileBody[];
  next_cursor: string | null;
  has_more: boolean;
}

export interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

export interface OpenApiOperation {
  parameters?: { name: string }[];
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema?: JsonSchema }> } | undefined
  >;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation | undefined> | undefined>;
}

export const keyIdOf = (apiKey: string) => apiKey.slice(3, 29);

let counter = 0;

export const create = (client: ApiClient, name: string, storage_state: unknown = state(name)) =>
  client.request<ProfileBody>('POST', '/v1/profiles', { body: { name, storage_state } });
export const append = (client: ApiClient, id: string, storage_state: unknown, ifMatch?: string) =>
  client.request<VersionBody>('POST', `/v1/profiles/${id}/versions`, {
    body: { storage_state },
    headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
  });
export const uniqueName = () => `profile-${++counter}-${Date.now().toString(36)}`;
export async function newProfileOf(client: ApiClient): Promise<ProfileBody> {
  const res = await create(client, uniqueName());
  expect(res.status).toBe(201);
  return res.body;
}
export function expectProblem(res: ApiResponse, status: number, type: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: expect.stringMatching(new RegExp(`/errors/${type}$`)) as string,
    status,
  });
}
