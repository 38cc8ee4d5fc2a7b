/**
 * Deprecation signalling for v1 routes (RFC 8594 `Sunset`, and the `Deprecation` header): a route
 * marked `config: { deprecation: { sunset, link } }` announces itself on every response, and is
 * flagged `deprecated` in /openapi.json. No route is deprecated yet.
 */
import type { FastifyInstance } from 'fastify';

export interface DeprecationNotice {
  /** When the route stops working (ISO date); sent as an HTTP-date. */
  sunset: string;
  /** Where to read about the replacement. */
  link?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    deprecation?: DeprecationNotice;
  }
}

export function registerDeprecationHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const notice = request.routeOptions.config.deprecation;
    if (notice) {
      void reply.header('Deprecation', 'true');
      void reply.header('Sunset', new Date(notice.sunset).toUTCString());
      if (notice.link) void reply.header('Link', `<${notice.link}>; rel="deprecation"`);
    }
    return payload;
  });
}
