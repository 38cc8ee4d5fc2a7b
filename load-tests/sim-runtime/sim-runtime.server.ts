/**
 * The sim runtime server: one HTTP + WebSocket server, on one port, hosting every simulated pod
 * (under `/pods/<id>/`) plus the admin API (`/admin/`). Built from its parts and opens nothing itself
 * (main.ts listens). One server per data dir, shared by every process whose driver uses it.
 */
import { createServer, type Server } from 'node:http';
import { handleAdmin } from './admin.routes.ts';
import { pathOf, sendJson } from './http.util.ts';
import { PodRoutes } from './pod.routes.ts';
import type { SimPodRegistry } from './sim-pod.registry.ts';

export interface SimRuntimeServerDeps {
  registry: SimPodRegistry;
  /** Called on every request and CDP message (the idle timer). */
  onActivity: () => void;
  /** Called once POST /admin/shutdown has been answered. */
  shutdown: () => void;
  /** Where to report a request that failed unexpectedly. */
  warn: (message: string, err: unknown) => void;
}

export interface SimRuntimeServer {
  http: Server;
  /** Cuts every connection (CDP sockets included) and stops listening. */
  close(): Promise<void>;
}

export function createSimRuntimeServer(deps: SimRuntimeServerDeps): SimRuntimeServer {
  const pods = new PodRoutes(deps.registry, deps.onActivity);
  const http = createServer((req, res) => {
    deps.onActivity();
    const path = pathOf(req);
    const handled = path.startsWith('/admin/')
      ? handleAdmin(deps, req, res, path).then(() => true)
      : pods.handleHttp(req, res, path);
    handled
      .then((found) => {
        if (!found) sendJson(res, 404, { error: 'not found' });
      })
      .catch((err: unknown) => {
        deps.warn(`${req.method} ${path} failed`, err);
        if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      });
  });
  // Thousands of long-polled creations and idle keep-alive connections are normal here.
  http.keepAliveTimeout = 30_000;
  http.headersTimeout = 35_000;
  http.on('upgrade', (req, socket, head: Buffer) => {
    deps.onActivity();
    pods.handleUpgrade(req, socket, head);
  });
  return {
    http,
    close: async () => {
      deps.registry.deleteAll();
      pods.close();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}
