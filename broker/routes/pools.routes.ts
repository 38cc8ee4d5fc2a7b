/** /v1/pools: operators create, read, change (live) and retire pools; every change is audited. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreatePoolBody,
  PatchPoolBody,
  POOL_NAME_PATTERN,
  PoolList,
  PoolNameParams,
  PoolResource,
} from '../../core/domain/pool.schema.ts';

const POOL_NAME_RE = new RegExp(POOL_NAME_PATTERN);
import { ProblemError } from '../../core/domain/problems.ts';
import { getPool, listPoolsPage, type PoolSettings } from '../../core/db/pools.repository.ts';
import { readCursor, toPage } from '../../core/domain/cursor.ts';
import { DEFAULT_PAGE_SIZE, PageQuery } from '../../core/domain/pagination.schema.ts';
import { changePool } from '../../core/pools/change-pool.ts';
import { createPool, retirePool } from '../../core/pools/pool-lifecycle.ts';
import type { Services } from '../../core/services.ts';
import { announcePoolSettings } from '../../core/pools/announce-settings.ts';
import { requireScope } from '../auth.ts';
import { emptyResponse, HEADERS, jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import { poolView } from '../../core/pools/pool-view.ts';

/** Postgres for the settings; the pools' Redis stores to announce them and to show live figures. */
export type PoolsRoutesDeps = Pick<Services, 'config' | 'db' | 'poolSignals' | 'poolSlots' | 'warmPods'>;

export function poolsRoutes(services: PoolsRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const notFound = (name: string) => new ProblemError('not-found', { detail: `No pool named '${name}'` });
    const announce = (pool: PoolSettings) => announcePoolSettings(services, pool);
    /** A retired pool exists (GET shows it) but cannot change: 409, not 404. */
    const missingOrRetired = async (name: string) =>
      (await getPool(services.db, name))?.retiredAt
        ? new ProblemError('state-conflict', {
            detail: `Pool '${name}' is retired; create it again with POST /v1/pools to use it`,
          })
        : notFound(name);

    api.post(
      '/v1/pools',
      {
        schema: routeSchema({
          operationId: 'createPool',
          summary: 'Create a pool (operator)',
          description:
            'A pool of `runtime_kind` pods in `region`, named `<region>-<runtime_kind>`; the pool controller ' +
            'starts its warm pods within a second. Creating a retired pool revives it with these settings. ' +
            "422 when the deployment's driver cannot run the runtime kind (`rda` runs on the kubernetes " +
            'driver only, with its own `pod_template.image`) or `min_ready` exceeds `max_total`; 409 when the ' +
            'pool exists. Audited as `pool.created`.',
          tags: ['pools'],
          scope: 'operator',
          body: CreatePoolBody,
          responses: {
            201: jsonResponse('The new pool.', PoolResource, { Location: HEADERS.location }),
          },
          problems: ['forbidden', 'state-conflict', 'unprocessable-entity', 'unsupported-media-type'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'operator');
        const b = request.body;
        const result = await createPool(
          { db: services.db, driver: services.config.driver, announce },
          {
            region: b.region,
            runtimeKind: b.runtime_kind,
            minReady: b.min_ready,
            maxTotal: b.max_total,
            maxStarting: b.max_starting ?? null,
            podTemplate: b.pod_template ?? {},
          },
          { id: principal.keyId, class: 'admin', workspaceId: principal.workspaceId },
        );
        if (result.outcome === 'invalid')
          throw new ProblemError('unprocessable-entity', { detail: result.reason });
        if (result.outcome === 'exists') {
          throw new ProblemError('state-conflict', {
            detail: `Pool '${b.region}-${b.runtime_kind}' exists; change it with PATCH /v1/pools/{name}`,
          });
        }
        void reply.code(201).header('Location', `/v1/pools/${result.pool.name}`);
        return poolView(services, result.pool);
      },
    );

    api.delete(
      '/v1/pools/:name',
      {
        schema: routeSchema({
          operationId: 'retirePool',
          summary: 'Retire a pool (operator)',
          description:
            'The pool admits no new session (422) and its warm pods are deleted; sessions that hold a pod ' +
            'run to their end. The pool stays listed with `retired_at`; POST /v1/pools revives it. ' +
            'Audited as `pool.retired`.',
          tags: ['pools'],
          scope: 'operator',
          params: PoolNameParams,
          responses: { 204: emptyResponse('Retired.') },
          problems: ['forbidden', 'not-found', 'state-conflict'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'operator');
        const retired = await retirePool({ db: services.db, announce }, request.params.name, {
          id: principal.keyId,
          class: 'admin',
          workspaceId: principal.workspaceId,
        });
        if (!retired) throw await missingOrRetired(request.params.name);
        return reply.code(204).send();
      },
    );

    api.get(
      '/v1/pools',
      {
        schema: routeSchema({
          operationId: 'listPools',
          summary: 'List pools (operator)',
          description:
            'Every pool with its settings and live figures (ready, warming, admitted, held), sorted by ' +
            'name and cursor-paginated like every list.',
          tags: ['pools'],
          scope: 'operator',
          querystring: PageQuery,
          responses: { 200: jsonResponse('A page of pools, by name.', PoolList) },
          problems: ['validation-error', 'forbidden'],
        }),
      },
      async (request) => {
        requireScope(request, 'operator');
        const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
        const afterName = readCursor(cursor, (name) => POOL_NAME_RE.test(name));
        const rows = await listPoolsPage(services.db, { ...(afterName && { afterName }), limit: limit + 1 });
        const page = toPage(rows, limit, (p) => p.name);
        return { ...page, items: await Promise.all(page.items.map((p) => poolView(services, p))) };
      },
    );

    api.get(
      '/v1/pools/:name',
      {
        schema: routeSchema({
          operationId: 'getPool',
          summary: 'Get a pool (operator)',
          tags: ['pools'],
          scope: 'operator',
          params: PoolNameParams,
          responses: { 200: jsonResponse('The pool.', PoolResource) },
          problems: ['forbidden', 'not-found'],
        }),
      },
      async (request) => {
        requireScope(request, 'operator');
        const pool = await getPool(services.db, request.params.name);
        if (!pool) throw notFound(request.params.name);
        return poolView(services, pool);
      },
    );

    api.patch(
      '/v1/pools/:name',
      {
        schema: routeSchema({
          operationId: 'updatePool',
          summary: 'Change pool settings live (operator)',
          description:
            'Changes `min_ready`, `max_total`, `max_starting` or `pod_template` (replaced whole; new pods ' +
            'only); the pool controller acts within a second. ' +
            'Warm pods are added or retired; sessions that hold a pod are never touched, even when ' +
            '`max_total` drops below the number running. Recorded in the audit log as an admin action. ' +
            '422 when `min_ready` would exceed `max_total`.',
          tags: ['pools'],
          scope: 'operator',
          params: PoolNameParams,
          body: PatchPoolBody,
          responses: { 200: jsonResponse('The pool after the change.', PoolResource) },
          problems: [
            'forbidden',
            'not-found',
            'state-conflict',
            'unprocessable-entity',
            'unsupported-media-type',
          ],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'operator');
        const { min_ready, max_total, max_starting, pod_template } = request.body;
        const result = await changePool(
          { db: services.db, announce },
          request.params.name,
          {
            ...(min_ready !== undefined && { minReady: min_ready }),
            ...(max_total !== undefined && { maxTotal: max_total }),
            ...(max_starting !== undefined && { maxStarting: max_starting }),
            ...(pod_template !== undefined && { podTemplate: pod_template }),
          },
          { id: principal.keyId, class: 'admin', workspaceId: principal.workspaceId },
        );
        if (result.outcome === 'not-found') throw await missingOrRetired(request.params.name);
        if (result.outcome === 'invalid')
          throw new ProblemError('unprocessable-entity', { detail: result.reason });
        request.log.info({ pool: result.after.name, actor: principal.keyId }, 'pool settings changed');
        return poolView(services, result.after);
      },
    );
  };
}
