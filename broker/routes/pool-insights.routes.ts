/**
 * Read-only operator views of a pool for the dashboard: its figures over the last hour (sampled by
 * core/pools/pool-history.ts) and Erlang-B capacity advice, the HTTP twin of `ventus pools advise --pool`.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PoolNameParams } from '../../core/domain/pool.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { getPool } from '../../core/db/pools.repository.ts';
import { advise, predict } from '../../core/capacity/erlang-b.ts';
import { DEFAULT_WINDOW_SECONDS, observeLoad } from '../../core/capacity/observed-load.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import {
  POOL_HISTORY_INTERVAL_MS,
  readPoolHistory,
  type PoolHistoryDeps,
} from '../../core/pools/pool-history.ts';

const Count = Type.Integer({ minimum: 0 });
const Rate = Type.Number({ minimum: 0, maximum: 1 });
const OrNull = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const HistoryQuery = Type.Object(
  { minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 60 })) },
  { additionalProperties: false },
);

const PoolHistory = Type.Object({
  pool: Type.String(),
  interval_seconds: Type.Number({ description: 'Sampling interval.' }),
  samples: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      ready: Count,
      warming: Count,
      held: Count,
      admitted: Count,
      queued: Count,
      min_ready: Count,
      max_total: Count,
    }),
    { description: 'Oldest first.' },
  ),
});

const AdviceQuery = Type.Object(
  {
    arrival_rate: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 10_000,
        description: 'Session requests per second; overrides the observation.',
      }),
    ),
    mean_session: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 86_400,
        description: 'Mean session length (s); overrides.',
      }),
    ),
    start_seconds: Type.Optional(
      Type.Number({ minimum: 0, maximum: 3_600, description: 'Pod start time (s); overrides.' }),
    ),
    target_503: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.01 })),
    target_warm_hit: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.95 })),
    window_seconds: Type.Optional(
      Type.Integer({ minimum: 60, maximum: 7 * 86_400, default: DEFAULT_WINDOW_SECONDS }),
    ),
  },
  { additionalProperties: false },
);

const Prediction = Type.Object({ rate_503: Rate, warm_hit_rate: Rate });
const Source = Type.Union([Type.Literal('observed'), Type.Literal('given')]);

const PoolAdvice = Type.Object({
  pool: Type.String(),
  window_seconds: Type.Integer(),
  observed: Type.Object({
    arrivals: Count,
    arrival_rate_per_second: Type.Number(),
    ended_sessions: Count,
    mean_session_seconds: OrNull(Type.Number()),
    carried_load_erlangs: Type.Number(),
    warmup_ms: OrNull(Type.Number()),
  }),
  inputs: Type.Object({
    arrival_rate_per_second: OrNull(Type.Number()),
    mean_session_seconds: OrNull(Type.Number()),
    start_seconds: OrNull(Type.Number()),
    sources: Type.Object({ arrival_rate: Source, mean_session: Source, start_seconds: Source }),
  }),
  missing: Type.Array(Type.String(), {
    description: 'Inputs neither observed nor given (advice is null until they are given).',
  }),
  advice: OrNull(
    Type.Object({
      max_total: Count,
      min_ready: Count,
      offered_load_erlangs: Type.Number(),
      warm_offered_load_erlangs: Type.Number(),
      target_503_rate: Rate,
      target_warm_hit_rate: Rate,
      predicted: Prediction,
      notes: Type.Array(Type.String()),
    }),
  ),
  current: OrNull(
    Type.Object(
      { max_total: Count, min_ready: Count, predicted: Prediction },
      {
        description: 'What the pool as set now gives under the same traffic.',
      },
    ),
  ),
});

export type PoolInsightsRoutesDeps = PoolHistoryDeps & Pick<Services, 'db' | 'warmPods'>;

export function poolInsightsRoutes(services: PoolInsightsRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const findPool = async (name: string) => {
      const pool = await getPool(services.db, name);
      if (!pool) throw new ProblemError('not-found', { detail: `No pool named '${name}'` });
      return pool;
    };

    api.get(
      '/v1/pools/:name/history',
      {
        schema: routeSchema({
          operationId: 'getPoolHistory',
          summary: "A pool's figures over the last hour (operator)",
          description:
            'Samples of ready, warming, held, admitted, queued, min_ready and max_total taken every ' +
            `${POOL_HISTORY_INTERVAL_MS / 1000} s by the workers, kept for an hour in Redis (lost with Redis).`,
          tags: ['pools'],
          scope: 'operator',
          params: PoolNameParams,
          querystring: HistoryQuery,
          responses: { 200: jsonResponse('The samples, oldest first.', PoolHistory) },
          problems: ['validation-error', 'forbidden', 'not-found'],
        }),
      },
      async (request) => {
        requireScope(request, 'operator');
        const pool = await findPool(request.params.name);
        const samples = await readPoolHistory(services, pool.name, request.query.minutes ?? 60);
        return { pool: pool.name, interval_seconds: POOL_HISTORY_INTERVAL_MS / 1000, samples };
      },
    );

    api.get(
      '/v1/pools/:name/advice',
      {
        schema: routeSchema({
          operationId: 'getPoolAdvice',
          summary: 'Erlang-B capacity advice for a pool (operator)',
          description:
            'Recommends `max_total` and `min_ready` from the traffic observed over the window (arrivals and ' +
            'session lengths from Postgres, pod start time from recent starts); any query input overrides its ' +
            'observation. `advice` is null, and `missing` names the inputs, when nothing could be observed. ' +
            'Same model as `ventus pools advise` (docs/operations.md).',
          tags: ['pools'],
          scope: 'operator',
          params: PoolNameParams,
          querystring: AdviceQuery,
          responses: { 200: jsonResponse('The observation and the advice.', PoolAdvice) },
          problems: ['validation-error', 'forbidden', 'not-found', 'unprocessable-entity'],
        }),
      },
      async (request) => {
        requireScope(request, 'operator');
        const pool = await findPool(request.params.name);
        const q = request.query;
        const windowSeconds = q.window_seconds ?? DEFAULT_WINDOW_SECONDS;
        const observed = await observeLoad({ db: services.db, pools: services.warmPods }, pool.name, {
          windowSeconds,
        });
        const arrivalRate = q.arrival_rate ?? observed.arrivalRatePerSecond;
        const meanSession = q.mean_session ?? observed.meanSessionSeconds;
        const startSeconds =
          q.start_seconds ?? (observed.warmupMs === undefined ? undefined : observed.warmupMs / 1000);
        const missing = [
          meanSession === undefined && 'mean_session',
          startSeconds === undefined && 'start_seconds',
        ].filter((m): m is string => typeof m === 'string');
        const source = (given: number | undefined) =>
          given === undefined ? ('observed' as const) : ('given' as const);
        let advice = null;
        let current = null;
        if (meanSession !== undefined && startSeconds !== undefined) {
          const traffic = {
            arrivalRatePerSecond: arrivalRate,
            meanSessionSeconds: meanSession,
            startSeconds,
          };
          try {
            const a = advise({
              ...traffic,
              ...(q.target_503 !== undefined && { target503Rate: q.target_503 }),
              ...(q.target_warm_hit !== undefined && { targetWarmHitRate: q.target_warm_hit }),
            });
            const now = predict(traffic, { maxTotal: pool.maxTotal, minReady: pool.minReady });
            advice = {
              max_total: a.maxTotal,
              min_ready: a.minReady,
              offered_load_erlangs: a.offeredLoadErlangs,
              warm_offered_load_erlangs: a.warmOfferedLoadErlangs,
              target_503_rate: a.target503Rate,
              target_warm_hit_rate: a.targetWarmHitRate,
              predicted: { rate_503: a.predicted.rate503, warm_hit_rate: a.predicted.warmHitRate },
              notes: a.notes,
            };
            current = {
              max_total: pool.maxTotal,
              min_ready: pool.minReady,
              predicted: { rate_503: now.rate503, warm_hit_rate: now.warmHitRate },
            };
          } catch (err) {
            // Inputs beyond what the formula sizes (e.g. an offered load of billions of erlangs).
            if (err instanceof RangeError)
              throw new ProblemError('unprocessable-entity', { detail: err.message });
            throw err;
          }
        }
        return {
          pool: pool.name,
          window_seconds: windowSeconds,
          observed: {
            arrivals: observed.arrivals,
            arrival_rate_per_second: observed.arrivalRatePerSecond,
            ended_sessions: observed.endedSessions,
            mean_session_seconds: observed.meanSessionSeconds ?? null,
            carried_load_erlangs: observed.carriedLoadErlangs,
            warmup_ms: observed.warmupMs ?? null,
          },
          inputs: {
            arrival_rate_per_second: arrivalRate,
            mean_session_seconds: meanSession ?? null,
            start_seconds: startSeconds ?? null,
            sources: {
              arrival_rate: source(q.arrival_rate),
              mean_session: source(q.mean_session),
              start_seconds: source(q.start_seconds),
            },
          },
          missing,
          advice,
          current,
        };
      },
    );
  };
}
