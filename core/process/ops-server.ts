/**
 * The ops endpoints of a process without a REST app: GET /healthz (liveness: the process answers),
 * GET /readyz (Postgres and Redis answer) and GET /metrics (Prometheus text). The workers and the
 * pool controller serve them on their own port; the proxy mounts the handler on its CDP port.
 * node:http only: these must keep answering when everything else in the process is busy or broken.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forDeployment, problemDocument, type ProblemDocument } from '../domain/problems.ts';
import type { Services } from '../services.ts';
import {
  checkReadiness,
  metricsAllowed,
  metricsUnauthorizedProblem,
  notReadyProblem,
  READINESS_RETRY_AFTER_SECONDS,
  readyBody,
} from './health.ts';

type OpsServices = Pick<Services, 'db' | 'redis' | 'metrics' | 'config'>;

function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function sendProblem(
  services: Pick<OpsServices, 'config'>,
  res: ServerResponse,
  doc: ProblemDocument,
  headers: Record<string, string> = {},
): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (doc.status === 401) res.setHeader('www-authenticate', 'Bearer realm="ventus-metrics"');
  sendJson(res, doc.status, forDeployment(doc, services.config.publicUrl), 'application/problem+json');
}

async function serve(services: OpsServices, path: string, req: IncomingMessage, res: ServerResponse) {
  if (path === '/healthz') return sendJson(res, 200, { status: 'ok', driver: services.config.driver });
  if (path === '/readyz') {
    const readiness = await checkReadiness(services);
    if (readiness.ready) return sendJson(res, 200, readyBody(readiness));
    return sendProblem(services, res, notReadyProblem(readiness), {
      'retry-after': String(READINESS_RETRY_AFTER_SECONDS),
    });
  }
  if (!metricsAllowed(services.config.metricsToken, req.headers.authorization))
    return sendProblem(services, res, metricsUnauthorizedProblem());
  const text = await services.metrics.render();
  res.writeHead(200, { 'content-type': services.metrics.contentType, 'cache-control': 'no-store' });
  res.end(text);
}

const PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Answers GET /healthz, /readyz and /metrics and returns true; returns false for any other request
 * (the caller answers it). Never throws: a failure is a 500 problem document.
 */
export function handleOpsRequest(services: OpsServices, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '/').split('?')[0]!;
  if (!PATHS.has(path)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendProblem(
      services,
      res,
      problemDocument('method-not-allowed', { detail: `${path} answers GET only`, instance: path }),
      { allow: 'GET' },
    );
    return true;
  }
  serve(services, path, req, res).catch(() => {
    if (res.headersSent) return void res.destroy();
    sendProblem(
      services,
      res,
      problemDocument('internal-error', { detail: 'The ops endpoint failed; please retry', instance: path }),
    );
  });
  return true;
}

export function notFound(
  services: Pick<OpsServices, 'config'>,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const instance = (req.url ?? '/').split('?')[0];
  sendProblem(services, res, problemDocument('not-found', { detail: 'No such endpoint', instance }));
}

export interface OpsServer {
  /** The port it listens on (the chosen one when asked for 0). */
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(
  services: OpsServices,
  listen: { port: number; host: string },
): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    if (!handleOpsRequest(services, req, res)) notFound(services, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its scrape connection alive; do not wait for it to go idle.
        server.closeAllConnections();
      }),
  };
}
