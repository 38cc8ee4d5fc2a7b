/**
 * The all-in-one service: broker + proxy on one port, workers and pool controller in the same process.
 * `ventus up` runs it; integration tests start it too.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../core/config/config.ts';
import { openServices, type Services } from '../core/services.ts';
import { PodFleet } from '../core/pools/pod-fleet.ts';
import { prepareDatabase } from '../core/db/bootstrap.ts';
import { createDatabase } from '../core/db/database.ts';
import { listPools } from '../core/db/pools.repository.ts';
import { createDriver, defaultHeadless } from '../core/runtime/create-driver.ts';
import type { RuntimeDriver } from '../core/runtime/driver.ts';
import type { Logger } from '../core/logging/logger.ts';
import { buildApp } from '../broker/app.ts';
import { attachCdpProxy, type CdpProxy } from '../proxy/cdp-proxy.ts';
import { attachLiveViewProxy, type LiveViewProxy } from '../proxy/live-view.proxy.ts';
import { startWorkers, type RunningWorkers } from '../workers/workers.ts';
import { startController, type RunningController } from '../pool-controller/controller.ts';

export interface Stack {
  /** Base URL the service listens on (http://127.0.0.1:<port>). */
  url: string;
  port: number;
  services: Services;
  app: FastifyInstance;
  proxy: CdpProxy;
  liveView: LiveViewProxy;
  driver: RuntimeDriver;
  controller: RunningController;
  workers: RunningWorkers;
  close(): Promise<void>;
}

export async function startStack(
  config: Config,
  urls: { databaseUrl: string; redisUrl: string },
  log: Logger,
): Promise<Stack> {
  const services = await openServicesAfterMigrating(config, urls, log);
  const headless = config.headless ?? defaultHeadless();
  const driver = createDriver(config, services.agentAccess);
  const app = await buildApp(services);
  const proxy = await attachCdpProxy(app.server, services, services.duplicateRedis());
  const liveView = await attachLiveViewProxy(app.server, services, services.duplicateRedis());
  // The viewer page is plain HTTP on the broker's port: Fastify hands /v/… to the proxy's handler.
  app.get('/v/*', { schema: { hide: true } }, (request, reply) => {
    reply.hijack();
    liveView.handleRequest(request.raw, reply.raw);
  });
  const workers = startWorkers(services, { driver, headless });
  const controller = await startController(services, services.duplicateRedis(), {
    driver,
    headless,
    intervalMs: config.reconcileIntervalMs,
  });
  const close = async (): Promise<void> => {
    await controller.close();
    await workers.close();
    await proxy.close();
    await liveView.close();
    await app.close();
    // Unclaimed warm pods die with the service; held pods keep running for their sessions.
    await deleteWarmPods(services, new PodFleet({ ...services, driver, headless }));
    await driver.close(); // aborts pod starts in flight
    await controller.reconciler.settle();
    await services.close();
  };
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    // A failed start (a port in use, say) stops what it started, warm pods included, before it says
    // why: nothing logs after the one line that explains it.
    await close().catch((closeErr: unknown) => log.warn({ err: closeErr }, 'stopping after a failed start'));
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  log.info({ port, driver: driver.kind, headless }, 'ventus is up');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    services,
    app,
    proxy,
    liveView,
    driver,
    controller,
    workers,
    close,
  };
}

async function openServicesAfterMigrating(
  config: Config,
  urls: { databaseUrl: string; redisUrl: string },
  log: Logger,
): Promise<Services> {
  const db = createDatabase(urls.databaseUrl, { max: 2 });
  try {
    await prepareDatabase(db, config);
  } finally {
    await db.end();
  }
  return openServices(config, urls, log);
}

async function deleteWarmPods(services: Pick<Services, 'db' | 'warmPods'>, fleet: PodFleet): Promise<void> {
  for (const pool of await listPools(services.db)) {
    for (const id of await services.warmPods.ids(pool.name)) {
      await fleet.retireWarm(pool.name, id).catch(() => {});
    }
  }
}
