/** buildApp(services): registers plugins and routes and opens nothing. main.ts listens. */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Services } from '../core/services.ts';
import { registerProblemHandlers, sendProblem } from './problem-handler.ts';
import { problemDocument } from '../core/domain/problems.ts';
import { registerAuth } from './auth.ts';
import { registerTextGuard } from './text-guard.ts';
import { registerDeprecationHeaders } from './deprecation.ts';
import { registerRateLimit } from './rate-limit.ts';
import { registerOpenApi } from './openapi/openapi.plugin.ts';
import { sessionsRoutes } from './routes/sessions.routes.ts';
import { sessionActionsRoutes } from './routes/session-actions.routes.ts';
import { keysRoutes } from './routes/keys.routes.ts';
import { membersRoutes } from './routes/members.routes.ts';
import { auditRoutes } from './routes/audit.routes.ts';
import { profilesRoutes } from './routes/profiles.routes.ts';
import { profileSnapshotRoutes } from './routes/profile-snapshot.routes.ts';
import { healthRoutes } from './health.routes.ts';
import { problemPagesRoutes } from './routes/problem-pages.routes.ts';
import { poolsRoutes } from './routes/pools.routes.ts';
import { workspacesRoutes } from './routes/workspaces.routes.ts';
import { recordingsRoutes } from './routes/recordings.routes.ts';
import { liveViewRoutes } from './routes/live-view.routes.ts';
import { poolInsightsRoutes } from './routes/pool-insights.routes.ts';
import { dashboardPlugin } from './dashboard/dashboard.plugin.ts';
import { scrubUrl } from '../core/domain/scrubber.ts';

/** How long a client may take to send its request headers (HTTP requests and CDP upgrades alike). */
export const HEADERS_TIMEOUT_MS = 10_000;

export interface BuildAppOptions {
  /** Body size limit in bytes (storage_state can be large). */
  bodyLimit?: number;
}

function makeAjv(coerce: boolean): Ajv {
  // Bodies: unknown fields and wrong types are a 400, never silently dropped or coerced.
  // Query strings and headers arrive as text: "limit=5" must become the integer 5.
  const ajv = new Ajv({
    removeAdditional: false,
    useDefaults: false,
    coerceTypes: coerce ? 'array' : false,
    allErrors: false,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Request lines at debug: at info, a dashboard polling every 2 s floods the terminal. A request
 * that failed with an error is still logged at error (Fastify's default).
 */
class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

export async function buildApp(services: Services, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // The cast keeps FastifyInstance's default logger type, so plugins take `FastifyInstance` plainly.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: services.log.child({ component: 'broker' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 5 * 1024 * 1024,
    // Slowloris: a client that trickles its request headers is cut (408) after 10 s, not Node's 60-90 s.
    http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    // Ids are generated here; a client's own X-Request-Id is not trusted for logs.
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    logController: new DebugRequestLogs(),
    // Router-level errors (malformed or overlong URLs) answer problem documents like everything else.
    frameworkErrors: (err, request, reply) => {
      const instance = request.url.split('?')[0];
      const doc =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? problemDocument('not-found', { detail: 'No resource has an id that long', instance })
          : problemDocument('validation-error', { detail: 'The URL is malformed', instance });
      void sendProblem(reply, doc);
    },
  });
  const strict = makeAjv(false);
  const coercing = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
  app.addHook('onRequest', async (request, reply) => {
    // Query strings carry tokens (connect_url); log the path with tokens removed.
    request.log = request.log.child({ path: scrubUrl(request.url) });
    void reply.header('X-Request-Id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  });
  // Every body is JSON: text/plain (Fastify's other default parser) is a 415, not a string to validate.
  app.removeContentTypeParser('text/plain');
  // An empty body sent as application/json (common on DELETE) means "no body", not a parse error.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    void parseJson(request, body as string, done);
  });
  registerProblemHandlers(app, services.config);
  registerAuth(app, services.db);
  registerTextGuard(app);
  registerDeprecationHeaders(app);
  await registerRateLimit(app, services);
  await registerOpenApi(app, services.config.publicUrl);
  await app.register(healthRoutes(services));
  await app.register(problemPagesRoutes());
  await app.register(sessionsRoutes(services));
  await app.register(sessionActionsRoutes(services));
  await app.register(keysRoutes(services));
  await app.register(membersRoutes(services));
  await app.register(auditRoutes(services));
  await app.register(profilesRoutes(services));
  await app.register(profileSnapshotRoutes(services));
  await app.register(poolsRoutes(services));
  await app.register(workspacesRoutes(services));
  await app.register(recordingsRoutes(services));
  await app.register(liveViewRoutes(services));
  await app.register(poolInsightsRoutes(services));
  await app.register(dashboardPlugin(services.config));
  return app;
}
