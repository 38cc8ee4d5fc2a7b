/**
 * Creating a session: idempotency, semantic checks, admission (one atomic Redis step), then the
 * session row, its first transition, the idempotency key and an audit row in one statement.
 */
import { findIdempotentSession } from '../db/idempotency.repository.ts';
import { getSession, insertSession, type Session } from '../db/sessions.repository.ts';
import { listWorkspaceLiveSessions } from '../db/live-sessions.repository.ts';
import { limitDefaults, workspaceLimits } from '../db/workspace-settings.repository.ts';
import type { WorkspaceLimits } from '../domain/workspace-limits.ts';
import type { Admission, WorkspaceShare } from '../redis/pool-slots.ts';
import { refusal } from './admission-refusal.ts';
import { sealSessionConfig } from '../security/session-secrets.ts';
import { findPool, listPools, type PoolSettings } from '../db/pools.repository.ts';
import { getWorkspaceProfile, profileVersionExists } from '../db/profiles.repository.ts';
import { newId } from '../domain/ids.ts';
import { ProblemError } from '../domain/problems.ts';
import { SESSION_DEFAULTS, type CreateSessionBody } from '../domain/session.schema.ts';
import { proxyUrlProblem } from '../domain/proxy-settings.ts';
import { forbiddenTargetProblem, storageStateTargetProblem } from '../security/network-target.ts';
import type { ApiKeyPrincipal } from '../db/workspaces.repository.ts';
import { jobIds } from '../queue/jobs.ts';
import { restorePoolSlots } from '../pools/restore-slots.ts';
import type { Services } from '../services.ts';

/** What creating a session reads and writes: Postgres, the pool's slots, the in-flight markers, the queue. */
export type CreateSessionDeps = Pick<
  Services,
  'config' | 'db' | 'idempotencyMarkers' | 'jobs' | 'metrics' | 'poolSlots' | 'profileCipher' | 'warmPods'
>;

export interface CreateOutcome {
  session: Session;
  /** True for an idempotent replay (200), false for a new session (202). */
  replayed: boolean;
}

async function resolvePool(
  services: Pick<CreateSessionDeps, 'config' | 'db'>,
  body: CreateSessionBody,
): Promise<PoolSettings> {
  const policy = { allowPrivate: services.config.allowPrivateTargets };
  const proxyProblem =
    body.proxy &&
    (proxyUrlProblem(body.proxy.url) ?? forbiddenTargetProblem(body.proxy.url, 'proxy.url', policy));
  if (proxyProblem) throw new ProblemError('unprocessable-entity', { detail: proxyProblem });
  const stateProblem = body.storage_state && storageStateTargetProblem(body.storage_state, policy);
  if (stateProblem) throw new ProblemError('unprocessable-entity', { detail: stateProblem });
  const region = body.region ?? SESSION_DEFAULTS.region;
  const kind = body.runtime_kind ?? SESSION_DEFAULTS.runtime_kind;
  if (kind === 'rda' && body.profile_id !== undefined) {
    throw new ProblemError('unprocessable-entity', {
      detail: 'profile_id is not supported for runtime_kind rda',
    });
  }
  if (kind === 'rda' && body.storage_state !== undefined) {
    throw new ProblemError('unprocessable-entity', {
      detail: 'storage_state is not supported for runtime_kind rda',
    });
  }
  const pool = await findPool(services.db, region, kind);
  if (pool?.retiredAt) {
    throw new ProblemError('unprocessable-entity', {
      detail: `The pool for runtime_kind '${kind}' in region ${region} is retired`,
    });
  }
  if (pool) return pool;
  const pools = await listPools(services.db);
  const regions = [...new Set(pools.map((p) => p.region))];
  if (!regions.includes(region)) {
    throw new ProblemError('unprocessable-entity', {
      detail: `Unknown region '${region}'; sessions schedule in ${regions.join(', ') || 'no region yet'}`,
    });
  }
  throw new ProblemError('unprocessable-entity', {
    detail: `No pool serves runtime_kind '${kind}' in region ${region}; available kinds there: ${pools
      .filter((p) => p.region === region)
      .map((p) => p.runtimeKind)
      .join(', ')}`,
  });
}

/**
 * The profile a session starts from must be a live profile of the caller's workspace. Returns the
 * version to store: the one asked for, else the latest now (pinned, so a later append or delete does
 * not change what this session loads).
 */
async function resolveProfileVersion(
  services: Pick<CreateSessionDeps, 'db'>,
  principal: ApiKeyPrincipal,
  body: CreateSessionBody,
): Promise<number | undefined> {
  const { profile_id: profileId, profile_version: version } = body;
  if (profileId === undefined) {
    if (version === undefined) return undefined;
    throw new ProblemError('unprocessable-entity', { detail: 'profile_version requires profile_id' });
  }
  const profile = await getWorkspaceProfile(services.db, principal.workspaceId, profileId);
  if (!profile) {
    throw new ProblemError('unprocessable-entity', {
      detail: `Unknown profile_id '${profileId}': no such profile in this workspace`,
    });
  }
  // Versions are appended without gaps, but the oldest are pruned past the workspace's limit.
  if (version !== undefined && !(await profileVersionExists(services.db, profileId, version))) {
    throw new ProblemError('unprocessable-entity', {
      detail: `Profile ${profileId} has no version ${version} (kept versions end at ${profile.latestVersion}; older ones are pruned)`,
    });
  }
  return version ?? profile.latestVersion;
}

/** With a lifetime ceiling set, a session cannot be asked to run longer than it at create either. */
function refuseOverLifetime(body: CreateSessionBody, limits: WorkspaceLimits): void {
  const ceiling = limits.maxSessionLifetimeSeconds;
  const timeout = body.timeout_seconds ?? SESSION_DEFAULTS.timeout_seconds;
  if (ceiling !== null && timeout > ceiling) {
    throw new ProblemError('unprocessable-entity', {
      detail: `timeout_seconds ${timeout} exceeds this workspace's maximum session lifetime of ${ceiling} s`,
    });
  }
}

/** The session created under this Idempotency-Key within the 24 h window, if any. */
export async function findReplay(
  services: Pick<CreateSessionDeps, 'db'>,
  principal: ApiKeyPrincipal,
  key: string,
): Promise<Session | undefined> {
  const existingId = await findIdempotentSession(services.db, principal.workspaceId, key);
  return (existingId && (await getSession(services.db, existingId))) || undefined;
}

async function replay(
  services: Pick<CreateSessionDeps, 'db'>,
  principal: ApiKeyPrincipal,
  key: string,
): Promise<CreateOutcome | undefined> {
  const session = await findReplay(services, principal, key);
  return session ? { session, replayed: true } : undefined;
}

/**
 * Reserves the session's slot in the pool and in the workspace's share (one atomic Redis step). What
 * Redis does not know (first use since a start, a Redis loss, a lapsed workspace marker) is rebuilt
 * from Postgres and the step retried, so a flushed Redis admits past neither max_total nor the quota.
 */
async function admit(
  services: Pick<CreateSessionDeps, 'db' | 'metrics' | 'poolSlots'>,
  pool: PoolSettings,
  sessionId: string,
  share: WorkspaceShare,
): Promise<Admission> {
  let result: Admission = await services.poolSlots.admit(pool.name, sessionId, share);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (result === 'limits-unknown') await restorePoolSlots(services, pool);
    else if (result === 'workspace-unknown') await syncWorkspaceShare(services, share.workspaceId);
    else break;
    result = await services.poolSlots.admit(pool.name, sessionId, share);
  }
  const outcome = result === 'admitted' ? 'admitted' : result === 'quota-reached' ? 'quota' : 'full';
  services.metrics.admissions.inc({ pool: pool.name, outcome });
  return result;
}

/** One rebuild per workspace at a time in this process (200 refused creates do not make 200 reads). */
const syncing = new Map<string, Promise<number>>();

function syncWorkspaceShare(
  services: Pick<CreateSessionDeps, 'db' | 'poolSlots'>,
  workspaceId: string,
): Promise<number> {
  const running = syncing.get(workspaceId);
  if (running) return running;
  const sync = listWorkspaceLiveSessions(services.db, workspaceId)
    .then((live) => services.poolSlots.syncWorkspace(workspaceId, live))
    .finally(() => syncing.delete(workspaceId));
  syncing.set(workspaceId, sync);
  return sync;
}

const IN_FLIGHT_MS = 30_000;
const DUPLICATE_WAIT_MS = 10_000;

/**
 * Creates a session, or returns the one created under the same Idempotency-Key. While one request
 * with a key is in flight, its duplicates wait for it (a Redis marker) instead of racing it for a slot.
 */
export async function createSession(
  services: CreateSessionDeps,
  principal: ApiKeyPrincipal,
  idempotencyKey: string,
  body: CreateSessionBody,
): Promise<CreateOutcome> {
  const token = newId();
  const markers = services.idempotencyMarkers;
  const releaseMarker = () => markers.release(principal.workspaceId, idempotencyKey, token);
  // The pool and the workspace's limits are read while the replay check and the marker run: four
  // round trips at once.
  const pool = resolvePool(services, body);
  const limits = workspaceLimits(services.db, principal.workspaceId, limitDefaults(services.config));
  // A replay never looks at them; createNew sees their errors.
  pool.catch(() => {});
  limits.catch(() => {});
  for (;;) {
    const [earlier, marked] = await Promise.all([
      replay(services, principal, idempotencyKey),
      markers.claim(principal.workspaceId, idempotencyKey, token, IN_FLIGHT_MS),
    ]);
    if (earlier) {
      if (marked) await releaseMarker();
      return earlier;
    }
    if (marked) break;
    const duplicateOf = await waitForDuplicate(services, principal, idempotencyKey);
    if (duplicateOf) return duplicateOf;
    // The first request ended without creating a session (e.g. a 503): this one tries on its own.
  }
  try {
    return await createNew(services, principal, idempotencyKey, body, await pool, await limits);
  } finally {
    // Not waited for: a duplicate checks Postgres for the session before the marker, and a marker
    // whose delete is lost lapses after IN_FLIGHT_MS.
    releaseMarker().catch(() => {});
  }
}

async function waitForDuplicate(
  services: Pick<CreateSessionDeps, 'db' | 'idempotencyMarkers'>,
  principal: ApiKeyPrincipal,
  idempotencyKey: string,
): Promise<CreateOutcome | undefined> {
  const deadline = Date.now() + DUPLICATE_WAIT_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    const found = await replay(services, principal, idempotencyKey);
    if (found) return found;
    if (!(await services.idempotencyMarkers.held(principal.workspaceId, idempotencyKey))) return undefined;
  }
  throw new ProblemError('state-conflict', {
    detail: 'Another request with this Idempotency-Key is in progress or failed; retry with the same key',
  });
}

async function createNew(
  services: Omit<CreateSessionDeps, 'idempotencyMarkers'>,
  principal: ApiKeyPrincipal,
  idempotencyKey: string,
  body: CreateSessionBody,
  pool: PoolSettings,
  limits: WorkspaceLimits,
): Promise<CreateOutcome> {
  const profileVersion = await resolveProfileVersion(services, principal, body);
  refuseOverLifetime(body, limits);
  const sessionId = newId();
  const admission = await admit(services, pool, sessionId, {
    workspaceId: principal.workspaceId,
    quota: limits.liveSessions,
  });
  if (admission !== 'admitted') {
    const raced = await replay(services, principal, idempotencyKey);
    if (raced) return raced;
    throw await refusal(services, pool, principal.workspaceId, admission, limits.liveSessions);
  }
  let session: Session | undefined;
  try {
    session = await insertSession(
      services.db,
      {
        id: sessionId,
        workspaceId: principal.workspaceId,
        pool: pool.name,
        region: pool.region,
        runtimeKind: pool.runtimeKind,
        timeoutSeconds: body.timeout_seconds ?? SESSION_DEFAULTS.timeout_seconds,
        keepAliveSeconds: body.keep_alive_seconds ?? SESSION_DEFAULTS.keep_alive_seconds,
        // The secrets (storage_state, proxy password) are stored sealed, and only until the pod has them.
        config: sealSessionConfig(services.profileCipher, sessionId, {
          viewport: body.viewport,
          user_agent: body.user_agent,
          proxy: body.proxy,
          profile_id: body.profile_id,
          profile_version: profileVersion,
          storage_state: body.storage_state,
          recording: body.recording,
        }),
        labels: body.labels ?? {},
        createdBy: principal.keyId,
      },
      {
        idempotencyKey,
        auditId: newId(),
        auditDetail: { region: pool.region, runtime_kind: pool.runtimeKind },
      },
    );
  } finally {
    if (!session) await services.poolSlots.undoAdmission(pool.name, sessionId);
  }
  if (!session) {
    const raced = await replay(services, principal, idempotencyKey);
    if (raced) return raced;
    throw new ProblemError('state-conflict', {
      detail: 'A concurrent request with this Idempotency-Key did not finish; retry',
    });
  }
  // If this enqueue is lost (crash), the controller re-enqueues QUEUED sessions it finds waiting.
  await services.jobs.enqueue('provision', { sessionId }, { jobId: jobIds.provision(sessionId) });
  return { session, replayed: false };
}
