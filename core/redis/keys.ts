/** Every Redis key the system uses, built in one place. A prefix isolates installations (and tests). */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** ZSET session id -> admission time (ms): the sessions that hold a slot of the pool. */
  poolActive(pool: string): string {
    return `${this.prefix}:pool:${pool}:active`;
  }
  /** HASH max_total, min_ready, version: the pool's limits as last published from Postgres. */
  poolLimits(pool: string): string {
    return `${this.prefix}:pool:${pool}:limits`;
  }
  /** HASH session id -> workspace id of every slot holder, so a release frees the workspace's share. */
  poolOwners(pool: string): string {
    return `${this.prefix}:pool:${pool}:owners`;
  }
  /** ZSET of recent slot releases (score ms): the pool's turnover, for Retry-After. */
  poolReleases(pool: string): string {
    return `${this.prefix}:pool:${pool}:released`;
  }
  /** Prefix of a workspace's keys: `<prefix>:ws:<id>:live`, `:live:known`, `:released`. */
  workspacePrefix(): string {
    return `${this.prefix}:ws:`;
  }
  /** ZSET session id -> admission time (ms): the workspace's sessions holding a slot of any pool. */
  workspaceLive(workspaceId: string): string {
    return `${this.workspacePrefix()}${workspaceId}:live`;
  }
  /** STRING set (with a lifetime) when the workspace's live set was last rebuilt from Postgres. */
  workspaceLiveKnown(workspaceId: string): string {
    return `${this.workspacePrefix()}${workspaceId}:live:known`;
  }
  /** ZSET of the workspace's recent slot releases (score ms): its turnover, for Retry-After. */
  workspaceReleases(workspaceId: string): string {
    return `${this.workspacePrefix()}${workspaceId}:released`;
  }
  /** LIST of ready, unclaimed pod ids. */
  poolWarm(pool: string): string {
    return `${this.prefix}:pool:${pool}:warm`;
  }
  /** SET of pod ids the controller is starting for the pool (the "warming" pods). */
  poolStarting(pool: string): string {
    return `${this.prefix}:pool:${pool}:starting`;
  }
  /** LIST of recent pod start durations (ms), newest first: the pool's measured warm-up time. */
  poolWarmupSamples(pool: string): string {
    return `${this.prefix}:pool:${pool}:warmup`;
  }
  /** LIST of JSON pool figure samples, newest first, bounded: the dashboard's "over time" view. */
  poolHistory(pool: string): string {
    return `${this.prefix}:pool:${pool}:history`;
  }
  /** STRING JSON of a pod (ids, endpoints) for whoever claims it. */
  pod(podId: string): string {
    return `${this.prefix}:pod:${podId}`;
  }
  /** STRING the pod a session claimed, so a retried provision job finds its own claim. */
  sessionPod(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}:pod`;
  }
  /** STRING JSON route the proxy reads: where the session's CDP endpoint is. */
  route(sessionId: string): string {
    return `${this.prefix}:route:${sessionId}`;
  }
  /** HASH proxy id -> open CDP client sockets of the session through that proxy. */
  cdpConnections(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}:cdp`;
  }
  /** Prefix of a proxy instance's keys: `<prefix>:proxy:<id>:alive` (heartbeat), `:sessions` (SET). */
  proxyPrefix(): string {
    return `${this.prefix}:proxy:`;
  }
  proxyAlive(proxyId: string): string {
    return `${this.proxyPrefix()}${proxyId}:alive`;
  }
  proxySessions(proxyId: string): string {
    return `${this.proxyPrefix()}${proxyId}:sessions`;
  }
  /** ZSET proxy id -> first seen (ms): every proxy instance that may hold connections. */
  proxies(): string {
    return `${this.prefix}:proxies`;
  }
  /** STRING held while a create with this Idempotency-Key is in flight, so duplicates wait, not race. */
  idempotencyInFlight(workspaceId: string, key: string): string {
    return `${this.prefix}:idem:${workspaceId}:${key}`;
  }
  /** STRING set once per Redis lifetime: its absence means Redis lost its data and state is rebuilt. */
  stateEpoch(): string {
    return `${this.prefix}:state:epoch`;
  }
  /** STRING the pool controller's leader lock. */
  controllerLeader(): string {
    return `${this.prefix}:controller:leader`;
  }
  /** Pub/sub: a session ended (message = session id), so every proxy closes its sockets. */
  sessionEndedChannel(): string {
    return `${this.prefix}:events:session-ended`;
  }
  /** Pub/sub: a session became RUNNING (message = session id), so brokers answer clients waiting for it. */
  sessionRunningChannel(): string {
    return `${this.prefix}:events:session-running`;
  }
  /** STRING ms: live-view links of the session issued before this are revoked (lives as long as a link). */
  liveViewRevokedAt(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}:live-view:revoked`;
  }
  /** Pub/sub: a session's live-view links were revoked (message = session id): proxies close its viewers. */
  liveViewRevokedChannel(): string {
    return `${this.prefix}:events:live-view-revoked`;
  }
  /** Pub/sub: pool demand changed (a pod was claimed, settings changed), so the controller acts now. */
  poolChangedChannel(): string {
    return `${this.prefix}:events:pool-changed`;
  }
}
