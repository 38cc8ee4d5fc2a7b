/** buildApp(services): registers plugins and routes and opens nothing. main.ts listens. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../core/services.ts';
import { registerProblemHandlers } from './problem-handler.ts';
import { registerAuth } from './auth.ts';
import { sessionsRoutes } from './routes/sessions.routes.ts';
import { scrubUrl } from '../core/domain/scrubber.ts';

export interface BuildAppOptions {
  /** Body size limit in bytes (storage_state can be large). */
  bodyLimit?: number;
}

export async function buildApp(services: Services, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // The cast keeps FastifyInstance's default logger type, so plugins take `FastifyInstance` plainly.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: services.log.child({ component: 'broker' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 5 * 1024 * 1024,
    // Ids are generated here; never trust a client's request id header for logs.
    genReqId: () => crypto.randomUUID(),
    ajv: {
      // Unknown fields and wrong types are a 400, never silently dropped or coerced.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
  });
  // Query strings carry tokens (connect_url); log the path with tokens removed.
  app.addHook('onRequest', async (request) => {
    request.log = request.log.child({ path: scrubUrl(request.url) });
  });
  registerProblemHandlers(app);
  registerAuth(app, services.db);
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(sessionsRoutes(services));
  return app;
}
