/**
 * The pods of every pool, as one module over the runtime driver and the pools' Redis records: a
 * session claims a warm pod or starts one cold, the controller starts warm pods, and every pod ends
 * through `retire`. No caller pairs a driver call with its bookkeeping by hand: a pod deleted here
 * is forgotten here (also when the delete fails: the error still reaches the caller).
 */
import type { RuntimeKind } from '../domain/session.schema.ts';
import { newId } from '../domain/ids.ts';
import { getPool, type PoolSettings } from '../db/pools.repository.ts';
import type { Queryable } from '../db/database.ts';
import { SessionConfigRejectedError, type Pod, type RuntimeDriver } from '../runtime/driver.ts';
import type { PodRecords } from '../redis/pod-records.ts';
import type { WarmAdd, WarmPods } from '../redis/warm-pods.ts';
import type { ClaimKind, Metrics } from '../metrics/metrics.ts';
import type { Logger } from '../logging/logger.ts';

export interface PodFleetDeps {
  db: Queryable;
  driver: RuntimeDriver;
  warmPods: WarmPods;
  podRecords: PodRecords;
  metrics: Pick<Metrics, 'podStartSeconds'>;
  /** Whether browsers run headless (`ventus up --headless`, the Deployment's setting). */
  headless: boolean;
}

/** The session a pod is claimed or started for. */
export interface PodClaimant {
  id: string;
  pool: string;
  runtimeKind: string;
}

export class PodFleet {
  constructor(private readonly deps: PodFleetDeps) {}

  /**
   * A warm pod for the session if one is left (skipping any that died while warm), else a cold start
   * within the slot the session holds; `claim` (the session's POST /session to the agent) is made on
   * it. A retried provision finds the pod it claimed or began.
   *
   * The claim is the warm pod's health check: no probe before it (one agent round trip less on the
   * way to RUNNING). A claim that fails on a pod whose process is gone, or whose agent no longer
   * answers its health probe, drops that pod and tries the next; a pod refusing the settings
   * (SessionConfigRejectedError), or a live pod that failed once on a busy machine, fails the attempt
   * as before.
   */
  async claimOrStart<R>(
    session: PodClaimant,
    log: Logger,
    claim: (pod: Pod) => Promise<R>,
  ): Promise<{ pod: Pod; kind: ClaimKind; claimed: R }> {
    const { driver, podRecords } = this.deps;
    for (;;) {
      const warm = await this.deps.warmPods.claim(session.pool, session.id);
      if (!warm) break;
      try {
        const claimed = await claim(warm);
        log.debug({ podId: warm.id }, 'claimed warm pod');
        return { pod: warm, kind: 'warm', claimed };
      } catch (err) {
        if (err instanceof SessionConfigRejectedError) throw err;
        const alive = (await driver.getPod(warm.id))?.alive ?? false;
        if (alive && (await driver.isHealthy(warm))) throw err;
      }
      // Died while warm: drop it and try the next one; the user never sees this.
      log.warn({ podId: warm.id }, 'claimed pod is unhealthy; deleting it');
      await podRecords.clearSessionPod(session.id);
      await this.retire(warm.id);
    }
    const recorded = await podRecords.sessionPod(session.id);
    const podId = recorded ?? newId();
    if (recorded) {
      const existing = await driver.getPod(podId);
      if (existing?.alive) return { pod: existing, kind: 'cold', claimed: await claim(existing) };
      // A previous attempt died mid-start (a crashed worker): clear what it left, start afresh, same id.
      await this.retire(podId);
    } else {
      await podRecords.setSessionPod(session.id, podId); // first, so a retry finds it
    }
    log.info({ podId }, 'no warm pod; cold start');
    const template = (await getPool(this.deps.db, session.pool))?.podTemplate;
    const { pod } = await this.create(podId, session.pool, session.runtimeKind, template, 'cold');
    await podRecords.recordPod(pod);
    return { pod, kind: 'cold', claimed: await claim(pod) };
  }

  /**
   * Starts pod `id` for the pool and puts it on the warm list if it still fits and `leaseToken` still
   * holds the controller's lease; otherwise (or when the start fails) the pod is retired. While it
   * starts, the pool's starting set names it (the API's `warming`).
   */
  async startWarm(
    id: string,
    pool: Pick<PoolSettings, 'name' | 'runtimeKind' | 'podTemplate'>,
    leaseToken: string,
  ): Promise<{ outcome: WarmAdd; ms: number }> {
    const { warmPods } = this.deps;
    await warmPods.markStarting(pool.name, id);
    try {
      const { pod, ms } = await this.create(id, pool.name, pool.runtimeKind, pool.podTemplate, 'warm');
      await warmPods.recordWarmup(pool.name, ms);
      const outcome = await warmPods.add(pod, leaseToken);
      if (outcome !== 'added') await this.retire(id);
      return { outcome, ms };
    } catch (err) {
      await this.retire(id).catch(() => {});
      throw err;
    } finally {
      await warmPods.doneStarting(pool.name, id);
    }
  }

  /** Ends a pod: the driver deletes it and its record is forgotten, also when the delete fails. */
  async retire(podId: string): Promise<void> {
    try {
      await this.deps.driver.deletePod(podId);
    } finally {
      await this.deps.podRecords.forgetPod(podId);
    }
  }

  /**
   * Takes a warm pod off the list and retires it, unless a session claimed it meanwhile (then it is
   * the session's). True when it was retired.
   */
  async retireWarm(pool: string, podId: string): Promise<boolean> {
    if (!(await this.deps.warmPods.remove(pool, podId))) return false;
    await this.retire(podId);
    return true;
  }

  private async create(
    id: string,
    pool: string,
    runtimeKind: string,
    template: PoolSettings['podTemplate'] | undefined,
    kind: ClaimKind,
  ): Promise<{ pod: Pod; ms: number }> {
    const started = performance.now();
    const pod = await this.deps.driver.createPod({
      id,
      pool,
      headless: this.deps.headless,
      runtimeKind: runtimeKind as RuntimeKind,
      ...(template && { template }),
    });
    const ms = performance.now() - started;
    this.deps.metrics.podStartSeconds.observe({ pool, kind }, ms / 1000);
    return { pod, ms };
  }
}
