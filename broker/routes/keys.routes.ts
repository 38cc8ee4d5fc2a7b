/** /v1/keys: create (the secret is shown once), list, revoke. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ApiKeyIdParams,
  ApiKeyList,
  CreateApiKeyBody,
  CreatedApiKey,
  ListApiKeysQuery,
  type ApiKeyResource,
} from '../../core/domain/key.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { readCursor, toPage } from '../../core/domain/cursor.ts';
import { DEFAULT_PAGE_SIZE } from '../../core/domain/pagination.schema.ts';
import { isUlid } from '../../core/domain/ids.ts';
import { hasScope } from '../../core/domain/scopes.ts';
import {
  getWorkspaceApiKey,
  listApiKeys,
  revokeApiKey,
  type ApiKeyRecord,
} from '../../core/db/api-keys.repository.ts';
import { createApiKey } from '../../core/db/workspaces.repository.ts';
import { appendAudit } from '../../core/db/audit.repository.ts';
import { withTransaction } from '../../core/db/database.ts';
import type { Services } from '../../core/services.ts';
import { forgetApiKey, requireScope } from '../auth.ts';
import { emptyResponse, HEADERS, jsonResponse, routeSchema } from '../openapi/route-schema.ts';

function view(key: ApiKeyRecord): ApiKeyResource {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    created_at: key.createdAt.toISOString(),
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
}

export type KeysRoutesDeps = Pick<Services, 'db'>;

export function keysRoutes(services: KeysRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.post(
      '/v1/keys',
      {
        schema: routeSchema({
          operationId: 'createApiKey',
          summary: 'Create an API key',
          description:
            'Returns the full key in `api_key` with 201: this is the only time it is shown (only a hash is stored). ' +
            'A key can grant only scopes it holds itself (403 otherwise); `operator` is granted only by the CLI.',
          tags: ['keys'],
          scope: 'keys:admin',
          body: CreateApiKeyBody,
          responses: {
            201: jsonResponse('Created. Store `api_key` now.', CreatedApiKey, { Location: HEADERS.location }),
          },
          problems: ['forbidden', 'unsupported-media-type'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'keys:admin');
        const { name, scopes } = request.body;
        if (scopes.includes('operator'))
          throw new ProblemError('forbidden', {
            detail: "The 'operator' scope is granted only by the CLI (ventus keys create)",
          });
        const missing = scopes.filter((s) => !hasScope(principal.scopes, s));
        if (missing.length > 0)
          throw new ProblemError('forbidden', {
            detail: `A key can grant only scopes it holds; this key lacks ${missing.map((s) => `'${s}'`).join(', ')}`,
          });
        const created = await withTransaction(services.db, async (tx) => {
          const { apiKey, keyId } = await createApiKey(tx, principal.workspaceId, scopes, name);
          await appendAudit(tx, {
            workspaceId: principal.workspaceId,
            class: 'tenant',
            actor: principal.keyId,
            action: 'key.create',
            targetType: 'api_key',
            targetId: keyId,
            // The name is free text from the request body: not audited. Scopes are an enum.
            detail: { scopes: scopes.join(',') },
          });
          return { apiKey, key: (await getWorkspaceApiKey(tx, principal.workspaceId, keyId))! };
        });
        void reply.code(201).header('Location', `/v1/keys/${created.key.id}`);
        return { ...view(created.key), api_key: created.apiKey };
      },
    );

    api.get(
      '/v1/keys',
      {
        schema: routeSchema({
          operationId: 'listApiKeys',
          summary: 'List API keys',
          description:
            "The workspace's keys, revoked ones included (`revoked_at` set), never their secrets. " +
            'Cursor-paginated, sorted by id (ULID, i.e. creation time); stable across inserts.',
          tags: ['keys'],
          scope: 'keys:admin',
          querystring: ListApiKeysQuery,
          responses: { 200: jsonResponse('A page of keys.', ApiKeyList) },
          problems: ['validation-error', 'forbidden'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'keys:admin');
        const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
        const afterId = readCursor(cursor);
        const rows = await listApiKeys(services.db, {
          workspaceId: principal.workspaceId,
          ...(afterId && { afterId }),
          limit: limit + 1,
        });
        const page = toPage(rows, limit, (k) => k.id);
        return { ...page, items: page.items.map(view) };
      },
    );

    api.delete(
      '/v1/keys/:id',
      {
        schema: routeSchema({
          operationId: 'revokeApiKey',
          summary: 'Revoke an API key',
          description:
            'Sets `revoked_at`; the key then fails authentication (401). It takes effect at once on the broker ' +
            'that served this request; other broker replicas cache a verified key for up to 5 s. Revoking a ' +
            'revoked key again answers 204 and changes nothing. A key may revoke itself.',
          tags: ['keys'],
          scope: 'keys:admin',
          params: ApiKeyIdParams,
          responses: { 204: emptyResponse('Revoked (or already revoked).') },
          problems: ['forbidden', 'not-found'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'keys:admin');
        const { id } = request.params;
        const result = await withTransaction(services.db, async (tx) => {
          const r = isUlid(id) ? await revokeApiKey(tx, principal.workspaceId, id) : undefined;
          if (r?.revoked) {
            await appendAudit(tx, {
              workspaceId: principal.workspaceId,
              class: 'tenant',
              actor: principal.keyId,
              action: 'key.revoke',
              targetType: 'api_key',
              targetId: r.key.id,
            });
          }
          return r;
        });
        if (!result) throw new ProblemError('not-found', { detail: `API key ${id} not found` });
        // After the commit: a request that looked the key up meanwhile cannot re-cache it as live.
        forgetApiKey(result.key.id);
        return reply.code(204).send();
      },
    );
  };
}
