/**
 * The shared clients every process needs, opened by a process's main (or by `ventus up`, or a test)
 * and passed down. Library code never opens connections of its own.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Config } from './config/config.ts';
import { createDatabase, type Database } from './db/database.ts';
import { getSetting, settingOrCreate } from './db/settings.repository.ts';
import { sealPlaintextVersions } from './db/profiles.repository.ts';
import { sealPlaintextSessionSecrets } from './db/sessions.repository.ts';
import { sealSessionConfig } from './security/session-secrets.ts';
import { formatProfileKey, parseProfileKey, ProfileCipher } from './security/profile-cipher.ts';
import { RedisKeys } from './redis/keys.ts';
import { openPoolStores, type PoolStores } from './redis/pool-stores.ts';
import { PodRecords } from './redis/pod-records.ts';
import { SessionRoutes } from './redis/session-routes.ts';
import { CdpConnections } from './redis/cdp-connections.ts';
import { IdempotencyMarkers } from './redis/idempotency-markers.ts';
import { JobProducer } from './queue/producer.ts';
import type { SessionTokens } from './security/cdp-token.ts';
import { openSessionTokens } from './security/open-session-tokens.ts';
import { PodAgentAccess } from './runtime/agent.client.ts';
import type { Logger } from './logging/logger.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { storeSources } from './metrics/state-sources.ts';

export interface Services extends PoolStores {
  config: Config;
  log: Logger;
  db: Database;
  redis: Redis;
  redisKeys: RedisKeys;
  /** Each pod's record and which pod each session holds (Redis). */
  podRecords: PodRecords;
  /** Which pod serves each session (Redis), and the session announcements. */
  sessionRoutes: SessionRoutes;
  /** CDP sockets per session across proxy replicas (Redis). */
  cdpConnections: CdpConnections;
  /** Which creates under an Idempotency-Key are in flight (their duplicates wait for them). */
  idempotencyMarkers: IdempotencyMarkers;
  jobs: JobProducer;
  tokens: SessionTokens;
  /** The control plane's key to the pod agents: every call to an agent presents the pod's secret. */
  agentAccess: PodAgentAccess;
  /** Seals and opens profile storage_state at rest. */
  profileCipher: ProfileCipher;
  /**
   * This process's Prometheus registry and metrics: one per Services, so `ventus up`'s all-in-one
   * process has one registry shared by broker, workers, controller and proxy.
   */
  metrics: Metrics;
  /** BullMQ key prefix (workers must use the same one as the producer). */
  queuePrefix: string;
  /** A new Redis connection for blocking uses (BullMQ workers, pub/sub); closed by `close()`. */
  duplicateRedis(): Redis;
  close(): Promise<void>;
}

/**
 * Longest a command on the shared (non-blocking) connection may wait, Redis down included: without
 * it, ioredis queues commands while it reconnects and a request would hang for the whole outage.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 3_000;

export function openRedis(url: string, options: { commandTimeoutMs?: number } = {}): Redis {
  // maxRetriesPerRequest: null is what BullMQ requires of a connection that blocks; harmless elsewhere.
  // Blocking connections (BullMQ workers, pub/sub) get no command timeout: their commands wait by design.
  return new Redis(url, {
    maxRetriesPerRequest: null,
    lazyConnect: false,
    ...(options.commandTimeoutMs !== undefined && { commandTimeout: options.commandTimeoutMs }),
  });
}

const GENERATED_PROFILE_KEY = 'profile_storage_key';

/**
 * The profile cipher: VENTUS_PROFILE_KEYS when set (first encrypts, all decrypt), else a key generated
 * once per installation and kept in the settings table (next to the data it protects: development
 * only). A generated key stays readable after VENTUS_PROFILE_KEYS is set, so nothing sealed is lost.
 */
async function openProfileCipher(db: Database, config: Config, log: Logger): Promise<ProfileCipher> {
  if (!config.profileKeys) {
    const generate = () => formatProfileKey({ kid: 'generated-1', key: randomBytes(32) });
    return new ProfileCipher(parseProfileKey(await settingOrCreate(db, GENERATED_PROFILE_KEY, generate)));
  }
  const [current, ...older] = config.profileKeys;
  // With configured keys a process starts even while Postgres is down (its /readyz then says so);
  // versions sealed with a generated development key stay unreadable until the next start.
  const stored = await getSetting(db, GENERATED_PROFILE_KEY).catch((err: unknown) => {
    log.warn({ err }, 'could not read the generated profile key; continuing with the configured keys');
    return undefined;
  });
  const generated = stored ? [parseProfileKey(stored)] : [];
  const configured = new Set(config.profileKeys.map((k) => k.kid));
  return new ProfileCipher(current!, [...generated.filter((k) => !configured.has(k.kid)), ...older]);
}

export async function openServices(
  config: Config,
  urls: { databaseUrl: string; redisUrl: string },
  log: Logger,
): Promise<Services> {
  const db = createDatabase(urls.databaseUrl, { max: config.dbPoolMax });
  // ioredis reconnects by itself; an error with no listener would print as "Unhandled error event".
  const onRedisError = (err: Error) => log.warn({ err }, 'redis connection error (reconnecting)');
  const redis = openRedis(urls.redisUrl, { commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS }).on(
    'error',
    onRedisError,
  );
  const extra: Redis[] = [];
  const keys = new RedisKeys(config.redisPrefix);
  const queuePrefix = `${config.redisPrefix}:bull`;
  const jobs = new JobProducer({ connection: redis, prefix: queuePrefix });
  const tokens = await openSessionTokens(db, config.jwtSecret, {
    onReloadError: (err) => log.warn({ err }, 'reading the signing keys failed; using the keys held so far'),
  });
  const agentKey =
    config.podAgentKey ??
    (await settingOrCreate(db, 'pod_agent_key', () => randomBytes(32).toString('base64url')));
  const profileCipher = await openProfileCipher(db, config, log);
  // Versions written before encryption at rest: sealed once, by whichever process starts first.
  await sealPlaintextVersions(db, profileCipher).then(
    (n) => n > 0 && log.info({ sealed: n }, 'sealed plaintext profile versions'),
    (err: Error) => log.warn({ err }, 'sealing plaintext profile versions failed; reads still work'),
  );
  // Sessions still waiting for a pod whose secrets were written in plaintext before sealing shipped.
  await sealPlaintextSessionSecrets(db, (id, config) => sealSessionConfig(profileCipher, id, config)).then(
    (n) => n > 0 && log.info({ sealed: n }, 'sealed plaintext session secrets'),
    (err: Error) => log.warn({ err }, 'sealing plaintext session secrets failed; provisioning still works'),
  );
  const metricsLog = log.child({ component: 'metrics' });
  const metrics = createMetrics(storeSources({ db, redis, keys, jobs }), (err) =>
    metricsLog.warn({ err }, 'reading pool or queue state for /metrics failed'),
  );
  return {
    config,
    log,
    db,
    redis,
    redisKeys: keys,
    ...openPoolStores(redis, keys),
    podRecords: new PodRecords(redis, keys),
    sessionRoutes: new SessionRoutes(redis, keys),
    cdpConnections: new CdpConnections(redis, keys),
    idempotencyMarkers: new IdempotencyMarkers(redis, keys),
    jobs,
    tokens,
    agentAccess: new PodAgentAccess(agentKey),
    profileCipher,
    metrics,
    queuePrefix,
    duplicateRedis() {
      const r = openRedis(urls.redisUrl).on('error', onRedisError);
      extra.push(r);
      return r;
    },
    async close() {
      metrics.close();
      await jobs.close().catch(() => {});
      for (const r of extra) r.disconnect();
      redis.disconnect();
      await db.end().catch(() => {});
    },
  };
}
