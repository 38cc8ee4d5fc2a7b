/**
 * Probes of the browsers that RUNNING sessions hold. A pod's process living is not enough: a wedged
 * browser (stopped, deadlocked) answers nothing, and its session's CDP clients would wait forever.
 * Probes are rationed (least recently probed first) so that 10,000 sessions cost the controller at
 * most 100 probes a second, not 2,000: at that scale a pod is probed every ~100 s instead of every
 * 5 s. Few in flight at once, so a probe's 1 s timeout measures the pod, not the queue.
 */
import pLimit from 'p-limit';
import type { Session } from '../core/db/sessions.repository.ts';
import type { PodStatus, RuntimeDriver } from '../core/runtime/driver.ts';

/** How often the browser of a held pod is probed. */
const HELD_PROBE_INTERVAL_MS = 5_000;
const HELD_PROBES_PER_SECOND = 100;
const HELD_PROBES_IN_FLIGHT = 16;

interface ProbeRecord {
  at: number;
  failures: number;
}

export class HeldPodProbes {
  /** Per pool, held pod -> when its browser was last probed, and its consecutive failed probes. */
  private readonly byPool = new Map<string, Map<string, ProbeRecord>>();
  private readonly budget = { at: Date.now(), tokens: HELD_PROBES_PER_SECOND };
  private readonly limit = pLimit(HELD_PROBES_IN_FLIGHT);

  constructor(private readonly driver: Pick<RuntimeDriver, 'isHealthy'>) {}

  /** Consecutive failed probes of a held pod (0 when it answered last, or was never probed). */
  failures(pool: string, podId: string): number {
    return this.byPool.get(pool)?.get(podId)?.failures ?? 0;
  }

  forget(pool: string, podId: string): void {
    this.byPool.get(pool)?.delete(podId);
  }

  /** Probes the browsers of RUNNING sessions' live pods not probed for an interval, within the budget. */
  async probe(
    pool: string,
    live: Session[],
    held: Map<string, string>,
    byId: Map<string, PodStatus>,
  ): Promise<void> {
    const probes = this.byPool.get(pool) ?? new Map<string, ProbeRecord>();
    this.byPool.set(pool, probes);
    const now = Date.now();
    const due: PodStatus[] = [];
    const current = new Set<string>();
    for (const session of live) {
      const pod = byId.get(held.get(session.id) ?? '');
      if (session.status !== 'RUNNING' || !pod?.alive) continue;
      current.add(pod.id);
      const last = probes.get(pod.id);
      if (!last)
        probes.set(pod.id, { at: now, failures: 0 }); // just claimed: probe next interval
      else if (now - last.at >= HELD_PROBE_INTERVAL_MS) due.push(pod);
    }
    for (const id of probes.keys()) if (!current.has(id)) probes.delete(id);
    const budget = this.budget;
    budget.tokens = Math.min(
      HELD_PROBES_PER_SECOND,
      budget.tokens + ((now - budget.at) / 1000) * HELD_PROBES_PER_SECOND,
    );
    budget.at = now;
    due.sort((a, b) => probes.get(a.id)!.at - probes.get(b.id)!.at);
    const turn = due.slice(0, Math.floor(budget.tokens));
    budget.tokens -= turn.length;
    await Promise.all(
      turn.map((pod) =>
        this.limit(async () => {
          const healthy = await this.driver.isHealthy(pod).catch(() => false);
          const failures = healthy ? 0 : (probes.get(pod.id)?.failures ?? 0) + 1;
          probes.set(pod.id, { at: Date.now(), failures });
        }),
      ),
    );
  }
}
