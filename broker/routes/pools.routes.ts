/** /v1/pools: operators read pools with live figures and change their settings live (audited). */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PatchPoolBody, PoolList, PoolNameParams, PoolResource } from '../../core/domain/pool.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { getPool, listPools } from '../../core/db/pools.repository.ts';
import { changePool } from '../../core/pools/change-pool.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import { poolView } from '../pool-view.ts';

export function poolsRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const notFound = (name: string) => new ProblemError('not-found', { detail: `No pool named '${name}'` });

    api.get(
      '/v1/pools',
      {
        schema: routeSchema({
          operationId: 'listPools',
          summary: 'List pools (operator)',
          description: 'Every pool with its settings and live figures (ready, warming, admitted, held).',
          tags: ['pools'],
          scope: 'operator',
          responses: { 200: jsonResponse('The pools, by name.', PoolList) },
          problems: ['forbidden'],
        }),
      },
      async (request) => {
        requireScope(request, 'operator');
        const pools = await listPools(services.db);
        return { data: await Promise.all(pools.map((p) => poolView(services, p))) };
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
          problems: ['forbidden', 'not-found', 'unprocessable-entity', 'unsupported-media-type'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'operator');
        const { min_ready, max_total, max_starting, pod_template } = request.body;
        const result = await changePool(
          { db: services.db, signalChange: (pool) => services.pools.signalChange(pool) },
          request.params.name,
          {
            ...(min_ready !== undefined && { minReady: min_ready }),
            ...(max_total !== undefined && { maxTotal: max_total }),
            ...(max_starting !== undefined && { maxStarting: max_starting }),
            ...(pod_template !== undefined && { podTemplate: pod_template }),
          },
          { id: principal.keyId, class: 'admin', workspaceId: principal.workspaceId },
        );
        if (result.outcome === 'not-found') throw notFound(request.params.name);
        if (result.outcome === 'invalid')
          throw new ProblemError('unprocessable-entity', { detail: result.reason });
        request.log.info({ pool: result.after.name, actor: principal.keyId }, 'pool settings changed');
        return poolView(services, result.after);
      },
    );
  };
}
