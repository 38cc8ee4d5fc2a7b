/**
 * What every process's main shares: read the configuration (one clear line per bad value), require
 * DATABASE_URL and REDIS_URL (only `ventus up` has embedded defaults), open the shared clients, serve
 * the ops endpoints (processes without a port of their own), and close everything in order on
 * SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig, type Config } from '../config/config.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { openServices, type Services } from '../services.ts';
import { closeOnSignals } from './shutdown.ts';
import { startOpsServer, type OpsServer } from './ops-server.ts';

/**
 * Where the processes without an HTTP port of their own serve /healthz, /readyz and /metrics when
 * VENTUS_OPS_PORT is unset: fixed, so probes and scrape configs can name them, and distinct, so
 * every process can run on one host. The broker and the proxy serve them on PORT.
 */
export const OPS_DEFAULT_PORTS: Readonly<Record<string, number>> = {
  workers: 9465,
  'pool-controller': 9466,
};

export interface ProcessHandle {
  close(): Promise<void>;
}

export async function runProcess(
  name: string,
  start: (services: Services, config: Config, log: Logger) => Promise<ProcessHandle>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
    if (!config.databaseUrl || !config.redisUrl) {
      throw new ConfigError([
        ...(config.databaseUrl
          ? []
          : ['DATABASE_URL: required (only `ventus up` starts an embedded Postgres)']),
        ...(config.redisUrl ? [] : ['REDIS_URL: required (only `ventus up` finds or starts a Redis)']),
      ]);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, { service: name });
  const services = await openServices(
    config,
    { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl },
    log,
  );
  const handle = await start(services, config, log);
  const defaultOpsPort = OPS_DEFAULT_PORTS[name];
  let ops: OpsServer | undefined;
  if (defaultOpsPort !== undefined) {
    ops = await startOpsServer(services, { port: config.opsPort ?? defaultOpsPort, host: config.host });
    log.info({ port: ops.port }, 'ops endpoints (/healthz, /readyz, /metrics) listening');
  }
  closeOnSignals(
    log,
    () => handle.close(),
    async () => ops?.close(),
    () => services.close(),
  );
}
