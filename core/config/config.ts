/**
 * Configuration from the environment, validated once at start. Nothing reads process.env elsewhere:
 * processes call `loadConfig(process.env)` in main and pass the result down.
 */
import { egressPair, parseEgressAllow } from '../security/egress-policy.ts';

export type DriverKind = 'local' | 'kubernetes' | 'sim';

export interface Config {
  /** Absent: `ventus up` starts an embedded Postgres. */
  databaseUrl: string | undefined;
  /** Absent: `ventus up` uses 127.0.0.1:6379 if it answers, else starts redis-server. */
  redisUrl: string | undefined;
  port: number;
  host: string;
  /** Base of connect_url and live_view_url. */
  publicUrl: string;
  driver: DriverKind;
  pool: { region: string; minReady: number; maxTotal: number };
  /** Pods run headless (true), headful on Xvfb (false), or headful when Xvfb is installed (undefined). */
  headless: boolean | undefined;
  chromiumPath: string | undefined;
  /** VENTUS_POD_NICENESS: the CPU niceness of local pods (0-19), below the service's own. */
  podNiceness: number;
  /** Where local state lives: embedded Postgres data, pod dirs. */
  dataDir: string;
  redisPrefix: string;
  jwtSecret: string | undefined;
  logLevel: string;
  /** How often the pool controller reconciles (ms). */
  reconcileIntervalMs: number;
  /** Postgres connections each process may open (VENTUS_DB_POOL_MAX). */
  dbPoolMax: number;
  /** How long a pod must look unreferenced before the pool controller's reaper deletes it (ms). */
  orphanGraceMs: number;
  /**
   * VENTUS_POOL_REFILL_DELAY_MS: how long the pool controller waits before starting a replacement
   * pod while at least half the pool is still warm (the claiming session's first page goes first).
   * Default 300 ms on the local driver, whose pods share the service's CPU; 0 where they do not.
   */
  refillDelayMs: number;
  /** Requests per minute per API key before 429. */
  rateLimitPerMinute: number;
  /** VENTUS_DRIVER=sim only: how long a simulated pod takes to become ready (ms). */
  simReadyMs: number;
  /**
   * Port of the ops HTTP server (/healthz, /readyz, /metrics) of the workers and pool-controller
   * processes; 0 picks a free port. Undefined: the process's own default (see OPS_DEFAULT_PORTS).
   * The broker, the proxy and `ventus up` serve these on PORT.
   */
  opsPort: number | undefined;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /**
   * VENTUS_PROFILE_KEYS: AES-256 keys for profile storage_state at rest, the first encrypts, every one
   * decrypts (rotation). Undefined: a key generated once and kept in the settings table (dev only).
   */
  profileKeys: ProfileKey[] | undefined;
  /** Where recordings are stored (the local artifact store); default `<dataDir>/artifacts`. */
  artifactsDir: string;
  /** How often the retention sweeper deletes recordings past their `delete_after` (ms). */
  recordingSweepMs: number;
  /** VENTUS_WORKSPACE_MAX_LIVE_SESSIONS: live sessions per workspace unless an operator set its own. */
  workspaceLiveSessions: number;
  /** How long a deleted profile's versions are kept before the purge job deletes them (ms). */
  profilePurgeGraceMs: number;
  /** How often the profile purge job runs (ms). */
  profilePurgeEveryMs: number;
  /**
   * VENTUS_ALLOW_PRIVATE_TARGETS=true: sessions may name loopback, link-local and private hosts as
   * `proxy.url` or storage_state origins (local development, tests). Metadata endpoints never.
   */
  allowPrivateTargets: boolean;
  /**
   * VENTUS_KERNEL_RELAY=false: the proxy and local pods' agents relay CDP bytes in their own
   * processes instead of handing each checked connection to a kernel relay
   * (runtime-image/agent/kernel.relay.ts; for comparison and diagnosis).
   */
  kernelRelay: boolean;
  /**
   * VENTUS_EGRESS_ALLOW: exact `host:port` pairs pages may reach although they are loopback or private
   * (development and tests serve pages on 127.0.0.1). Never the control plane or a pod agent.
   */
  egressAllow: string[];
  /**
   * VENTUS_POD_AGENT_KEY: the key every pod's agent secret is derived from (at least 32 characters).
   * Undefined: one generated once per installation and kept in the settings table.
   */
  podAgentKey: string | undefined;
  /** How long a signed `recording_url` works (seconds). */
  recordingUrlTtlSeconds: number;
  /** VENTUS_DRIVER=kubernetes only (VENTUS_K8S_*); the kubeconfig comes from the standard loader. */
  kubernetes: KubernetesConfig;
}

/** The Pod template and API settings of the kubernetes driver (core/runtime/kubernetes/). */
export interface KubernetesConfig {
  /** VENTUS_K8S_NAMESPACE, default `default`. */
  namespace: string;
  /** VENTUS_K8S_IMAGE: the runtime image; required with VENTUS_DRIVER=kubernetes. */
  image: string | undefined;
  /** VENTUS_K8S_RUNTIME_CLASS, e.g. gvisor. */
  runtimeClassName: string | undefined;
  /** VENTUS_K8S_NODE_SELECTOR: `key=value,key2=value2`. */
  nodeSelector: Record<string, string> | undefined;
  /** VENTUS_K8S_CPU / VENTUS_K8S_MEMORY: requests and limits of the browser container. */
  cpu: string | undefined;
  memory: string | undefined;
  /** VENTUS_K8S_DELETE_GRACE_SECONDS, default 5. */
  deleteGraceSeconds: number;
  /** VENTUS_K8S_MAX_API_CALLS: requests in flight to the API server per process, default 8. */
  maxApiCalls: number;
}

export interface ProfileKey {
  /** Stored with every ciphertext, so old versions stay readable after a rotation. */
  kid: string;
  /** 32 bytes. */
  key: Buffer;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
    return fallback;
  }
  return value;
}

function url(env: Env, name: string, protocols: string[], problems: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = new URL(raw);
    if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
    return raw;
  } catch {
    // The value may hold a password: name the variable, never echo it.
    problems.push(`${name}: expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    return undefined;
  }
}

const KID = /^[A-Za-z0-9_.-]{1,32}$/;

/** `kid:base64key,kid2:base64key` (the first is current); one problem line per bad entry. */
function profileKeys(env: Env, problems: string[]): ProfileKey[] | undefined {
  const raw = env.VENTUS_PROFILE_KEYS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const keys: ProfileKey[] = [];
  raw.split(',').forEach((entry, i) => {
    const [kid = '', encoded = '', ...rest] = entry.trim().split(':');
    const key = Buffer.from(encoded, 'base64');
    // Name the entry, never echo it: it holds a key.
    const where = `VENTUS_PROFILE_KEYS entry ${i + 1}`;
    if (rest.length > 0 || !KID.test(kid) || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded) || key.length !== 32) {
      problems.push(`${where}: expected kid:base64key (kid 1-32 of A-Z a-z 0-9 . _ -; a 32-byte key)`);
    } else if (keys.some((k) => k.kid === kid)) {
      problems.push(`${where}: kid ${JSON.stringify(kid)} appears twice`);
    } else {
      keys.push({ kid, key });
    }
  });
  return keys.length > 0 ? keys : undefined;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const K8S_QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

function kubernetesConfig(env: Env, driver: string, problems: string[]): KubernetesConfig {
  const namespace = env.VENTUS_K8S_NAMESPACE || 'default';
  if (!K8S_NAME.test(namespace) || namespace.length > 63) {
    problems.push(`VENTUS_K8S_NAMESPACE=${JSON.stringify(namespace)}: expected a Kubernetes namespace name`);
  }
  const image = env.VENTUS_K8S_IMAGE || undefined;
  if (driver === 'kubernetes' && image === undefined) {
    problems.push('VENTUS_K8S_IMAGE: required when VENTUS_DRIVER=kubernetes (the runtime image)');
  }
  const runtimeClassName = env.VENTUS_K8S_RUNTIME_CLASS || undefined;
  if (runtimeClassName !== undefined && !K8S_NAME.test(runtimeClassName)) {
    problems.push(
      `VENTUS_K8S_RUNTIME_CLASS=${JSON.stringify(runtimeClassName)}: expected a RuntimeClass name`,
    );
  }
  let nodeSelector: Record<string, string> | undefined;
  const selectorRaw = env.VENTUS_K8S_NODE_SELECTOR;
  if (selectorRaw) {
    const pairs = selectorRaw.split(',').map((p) => p.trim().split('='));
    if (pairs.some((p) => p.length !== 2 || !p[0])) {
      problems.push(
        `VENTUS_K8S_NODE_SELECTOR=${JSON.stringify(selectorRaw)}: expected key=value[,key=value]`,
      );
    } else {
      nodeSelector = Object.fromEntries(pairs.map(([k, v]) => [k!, v!]));
    }
  }
  const quantity = (name: string): string | undefined => {
    const raw = env[name] || undefined;
    if (raw !== undefined && !K8S_QUANTITY.test(raw)) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected a Kubernetes quantity (e.g. 1, 500m, 2Gi)`);
    }
    return raw;
  };
  return {
    namespace,
    image,
    runtimeClassName,
    nodeSelector,
    cpu: quantity('VENTUS_K8S_CPU'),
    memory: quantity('VENTUS_K8S_MEMORY'),
    deleteGraceSeconds: integer(env, 'VENTUS_K8S_DELETE_GRACE_SECONDS', 5, 0, 3600, problems),
    maxApiCalls: integer(env, 'VENTUS_K8S_MAX_API_CALLS', 8, 1, 256, problems),
  };
}

/** Where the control plane listens: what no egress allow-list entry may name. */
function controlPlaneEndpoints(config: Config): string[] {
  const pairs = [egressPair('*', config.port), egressPair('*', AGENT_PORT_IN_IMAGE)];
  if (config.opsPort) pairs.push(egressPair('*', config.opsPort));
  for (const [raw, fallbackPort] of [
    [config.databaseUrl, 5432],
    [config.redisUrl, 6379],
  ] as const) {
    const u = raw ? new URL(raw) : undefined;
    const port = Number(u?.port || fallbackPort);
    pairs.push(egressPair('*', port));
    if (u) pairs.push(egressPair(u.hostname, port));
  }
  return pairs;
}

/** The runtime image's agent port (runtime-image/Dockerfile). */
const AGENT_PORT_IN_IMAGE = 9222;

export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const port = integer(env, 'PORT', 8080, 0, 65535, problems);
  const driver = env.VENTUS_DRIVER ?? 'local';
  if (!['local', 'kubernetes', 'sim'].includes(driver)) {
    problems.push(`VENTUS_DRIVER=${JSON.stringify(driver)}: expected local, kubernetes or sim`);
  }
  const headlessRaw = env.VENTUS_HEADLESS ?? 'auto';
  if (!['auto', 'true', 'false'].includes(headlessRaw)) {
    problems.push(`VENTUS_HEADLESS=${JSON.stringify(headlessRaw)}: expected auto, true or false`);
  }
  const maxTotal = integer(env, 'VENTUS_POOL_MAX_TOTAL', 10, 0, 100_000, problems);
  const minReady = integer(env, 'VENTUS_POOL_MIN_READY', 2, 0, 100_000, problems);
  if (minReady > maxTotal) {
    problems.push(`VENTUS_POOL_MIN_READY=${minReady}: must not exceed VENTUS_POOL_MAX_TOTAL=${maxTotal}`);
  }
  const publicUrl =
    url(env, 'PUBLIC_URL', ['http:', 'https:'], problems) ?? `http://localhost:${port || 8080}`;
  const prefix = env.VENTUS_REDIS_PREFIX ?? 'ventus';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) {
    problems.push(`VENTUS_REDIS_PREFIX=${JSON.stringify(prefix)}: expected 1-64 letters, digits, _ or -`);
  }
  const jwtSecret = env.VENTUS_JWT_SECRET || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    problems.push('VENTUS_JWT_SECRET: expected at least 32 characters');
  }
  const podAgentKey = env.VENTUS_POD_AGENT_KEY || undefined;
  if (podAgentKey !== undefined && podAgentKey.length < 32) {
    problems.push('VENTUS_POD_AGENT_KEY: expected at least 32 characters');
  }
  const metricsToken = env.VENTUS_METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) {
    problems.push('VENTUS_METRICS_TOKEN: expected at least 16 characters');
  }
  const allowPrivateRaw = env.VENTUS_ALLOW_PRIVATE_TARGETS ?? '';
  if (!['', 'true', 'false'].includes(allowPrivateRaw)) {
    problems.push(`VENTUS_ALLOW_PRIVATE_TARGETS=${JSON.stringify(allowPrivateRaw)}: expected true or false`);
  }
  const kernelRelayRaw = env.VENTUS_KERNEL_RELAY ?? '';
  if (!['', 'true', 'false'].includes(kernelRelayRaw)) {
    problems.push(`VENTUS_KERNEL_RELAY=${JSON.stringify(kernelRelayRaw)}: expected true or false`);
  }
  const opsPortRaw = env.VENTUS_OPS_PORT;
  const opsPort =
    opsPortRaw === undefined || opsPortRaw === ''
      ? undefined
      : integer(env, 'VENTUS_OPS_PORT', 0, 0, 65535, problems);
  const config: Config = {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], problems),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:'], problems),
    port,
    host: env.HOST ?? '0.0.0.0',
    publicUrl: publicUrl.replace(/\/+$/, ''),
    driver: driver as DriverKind,
    pool: { region: env.VENTUS_POOL_REGION ?? 'us-east1', minReady, maxTotal },
    headless: headlessRaw === 'auto' ? undefined : headlessRaw === 'true',
    chromiumPath: env.VENTUS_CHROMIUM_PATH || undefined,
    podNiceness: integer(env, 'VENTUS_POD_NICENESS', 10, 0, 19, problems),
    dataDir: env.VENTUS_DATA_DIR ?? '.ventus',
    redisPrefix: prefix,
    jwtSecret,
    logLevel: env.VENTUS_LOG_LEVEL ?? 'info',
    reconcileIntervalMs: integer(env, 'VENTUS_RECONCILE_INTERVAL_MS', 1000, 50, 60_000, problems),
    dbPoolMax: integer(env, 'VENTUS_DB_POOL_MAX', 10, 1, 1000, problems),
    orphanGraceMs: integer(env, 'VENTUS_ORPHAN_GRACE_MS', 30_000, 0, 3_600_000, problems),
    refillDelayMs: integer(
      env,
      'VENTUS_POOL_REFILL_DELAY_MS',
      driver === 'local' ? 300 : 0,
      0,
      60_000,
      problems,
    ),
    rateLimitPerMinute: integer(env, 'VENTUS_RATE_LIMIT_PER_MINUTE', 1200, 1, 10_000_000, problems),
    // At most 60 s: a simulated pod's creation is one long-polled request to the sim runtime server.
    simReadyMs: integer(env, 'VENTUS_SIM_READY_MS', 50, 0, 60_000, problems),
    opsPort,
    metricsToken,
    profileKeys: profileKeys(env, problems),
    artifactsDir: env.VENTUS_ARTIFACTS_DIR || `${env.VENTUS_DATA_DIR ?? '.ventus'}/artifacts`,
    recordingSweepMs: integer(env, 'VENTUS_RECORDING_SWEEP_MS', 600_000, 100, 86_400_000, problems),
    workspaceLiveSessions: integer(env, 'VENTUS_WORKSPACE_MAX_LIVE_SESSIONS', 50, 0, 100_000, problems),
    // 7 days: long enough to undo a mistaken delete by support, short enough that PHI does not linger.
    profilePurgeGraceMs: integer(
      env,
      'VENTUS_PROFILE_PURGE_GRACE_MS',
      7 * 86_400_000,
      0,
      365 * 86_400_000,
      problems,
    ),
    profilePurgeEveryMs: integer(env, 'VENTUS_PROFILE_PURGE_EVERY_MS', 3_600_000, 100, 86_400_000, problems),
    recordingUrlTtlSeconds: integer(env, 'VENTUS_RECORDING_URL_TTL_SECONDS', 600, 1, 3600, problems),
    kubernetes: kubernetesConfig(env, driver, problems),
    allowPrivateTargets: allowPrivateRaw === 'true',
    kernelRelay: kernelRelayRaw !== 'false',
    egressAllow: [],
    podAgentKey,
  };
  config.egressAllow = parseEgressAllow(
    env.VENTUS_EGRESS_ALLOW ?? '',
    controlPlaneEndpoints(config),
    problems,
  );
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    problems.push(
      `VENTUS_LOG_LEVEL=${JSON.stringify(config.logLevel)}: expected fatal, error, warn, info, debug, trace or silent`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
