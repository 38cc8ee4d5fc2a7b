/**
 * Unauthenticated operations routes: GET /healthz (liveness), GET /readyz (Postgres and Redis answer)
 * and GET /metrics (Prometheus text; Bearer VENTUS_METRICS_TOKEN when one is set). The same answers
 * as the ops server of the workers and pool-controller processes (core/process/ops-server.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../core/services.ts';
import {
  checkReadiness,
  metricsAllowed,
  metricsUnauthorizedProblem,
  notReadyProblem,
  READINESS_RETRY_AFTER_SECONDS,
  readyBody,
} from '../core/process/health.ts';
import { HEADERS, jsonResponse, routeSchema } from './openapi/route-schema.ts';
import { sendProblem } from './problem-handler.ts';

const Health = Type.Object(
  {
    status: Type.Literal('ok'),
    driver: Type.Enum(['local', 'kubernetes', 'sim'], {
      description: 'The runtime driver behind this deployment (load-test reports name it).',
    }),
  },
  { additionalProperties: false },
);

const Checks = Type.Object(
  {
    postgres: Type.String({ description: '`ok`, or why `SELECT 1` failed or timed out' }),
    redis: Type.String({ description: '`ok`, or why `PING` failed or timed out' }),
  },
  { additionalProperties: false },
);

const Ready = Type.Object(
  { status: Type.Literal('ready'), checks: Checks },
  { additionalProperties: false, examples: [{ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } }] },
);

const TAGS = ['operations'];

/** The stores /readyz pings, the registry /metrics renders, and the config (driver, metrics token). */
export type HealthRoutesDeps = Pick<Services, 'config' | 'db' | 'metrics' | 'redis'>;

export function healthRoutes(services: HealthRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get(
      '/healthz',
      {
        schema: routeSchema({
          operationId: 'getHealth',
          summary: 'Liveness',
          description: 'The process is up and serving HTTP. Checks no dependency (see `/readyz`).',
          tags: TAGS,
          authenticated: false,
          responses: { 200: jsonResponse('The process is alive.', Health) },
        }),
      },
      async () => ({ status: 'ok' as const, driver: services.config.driver }),
    );

    app.get(
      '/readyz',
      {
        schema: routeSchema({
          operationId: 'getReadiness',
          summary: 'Readiness',
          description:
            'Postgres answers `SELECT 1` and Redis answers `PING`, each within 800 ms. Otherwise 503 ' +
            '`service-unavailable`, whose `checks` tell each result and `failing` names the failed ones.',
          tags: TAGS,
          authenticated: false,
          responses: { 200: jsonResponse('Postgres and Redis answer.', Ready) },
          problems: ['service-unavailable'],
        }),
      },
      async (request, reply) => {
        const readiness = await checkReadiness(services);
        if (readiness.ready) return readyBody(readiness);
        return sendProblem(reply, notReadyProblem(readiness, '/readyz'), READINESS_RETRY_AFTER_SECONDS);
      },
    );

    app.get(
      '/metrics',
      {
        schema: routeSchema({
          operationId: 'getMetrics',
          summary: 'Prometheus metrics',
          description:
            'Prometheus text exposition (format 0.0.4) of this process: pools, admissions, claim and ' +
            'time-to-RUNNING latency, queues, CDP traffic. Unauthenticated unless the operator set ' +
            '`VENTUS_METRICS_TOKEN`, then `Authorization: Bearer <token>` is required. Do not expose it ' +
            'publicly without that token.',
          tags: TAGS,
          authenticated: false,
          responses: {
            200: {
              description: 'The metrics, in the Prometheus text format.',
              headers: {
                'X-Request-Id': { ...HEADERS.requestId.schema, description: HEADERS.requestId.description },
              },
              content: { 'text/plain': { schema: Type.String() } },
            },
          },
          problems: ['unauthorized'],
        }),
      },
      async (request, reply) => {
        if (!metricsAllowed(services.config.metricsToken, request.headers.authorization))
          return sendProblem(reply, metricsUnauthorizedProblem('/metrics'));
        const text = await services.metrics.render();
        return reply.type(services.metrics.contentType).header('cache-control', 'no-store').send(text);
      },
    );
  };
}
