/**
 * The simulated pods one sim runtime server hosts: in memory (a pod costs a record, a timer while
 * starting and its open sockets), each with a ready delay and the faults a test can inject.
 * Pods live as long as the server: a restarted server starts empty, like a rebooted machine.
 */
import type { WebSocket } from 'ws';
import { SimulatedBrowser } from './simulated-browser.ts';
import type { SimPodCreateRequest, SimPodRecord } from '../../core/runtime/sim/sim.protocol.ts';

/** Anything held open on a pod's behalf (a stalled request, a parked upgrade socket). */
interface Destroyable {
  destroy(): void;
}

export interface SimPod {
  readonly record: SimPodRecord;
  readonly browser: SimulatedBrowser;
  /** Open CDP connections: cut when the pod is killed or deleted. */
  readonly sockets: Set<WebSocket>;
  /** Requests and sockets a stalled pod never answers: destroyed when it is killed or deleted. */
  readonly held: Set<Destroyable>;
  /** Resolves true once ready, false when the pod is killed, stalled or deleted before that. */
  readonly ready: Promise<boolean>;
}

interface PodEntry extends SimPod {
  timer: NodeJS.Timeout | undefined;
  settle(ready: boolean): void;
}

export class PodExistsError extends Error {
  constructor(id: string) {
    super(`pod ${id} already exists`);
    this.name = 'PodExistsError';
  }
}

export class SimPodRegistry {
  private readonly pods = new Map<string, PodEntry>();

  get size(): number {
    return this.pods.size;
  }

  /** Open CDP connections across all pods. */
  socketCount(): number {
    let n = 0;
    for (const pod of this.pods.values()) n += pod.sockets.size;
    return n;
  }

  /** Registers a pod in state `starting`; it turns `ready` after `readyMs`. */
  create(req: SimPodCreateRequest): SimPod {
    if (this.pods.has(req.id)) throw new PodExistsError(req.id);
    let settle!: (ready: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (settle = resolve));
    const entry: PodEntry = {
      record: {
        id: req.id,
        pool: req.pool,
        headless: req.headless,
        createdAt: new Date().toISOString(),
        state: 'starting',
      },
      browser: new SimulatedBrowser(),
      sockets: new Set(),
      held: new Set(),
      ready,
      timer: undefined,
      settle,
    };
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (entry.record.state !== 'starting') return;
      entry.record.state = 'ready';
      entry.settle(true);
    }, req.readyMs);
    this.pods.set(req.id, entry);
    return entry;
  }

  get(id: string): SimPod | undefined {
    return this.pods.get(id);
  }

  records(): SimPodRecord[] {
    return [...this.pods.values()].map((p) => ({ ...p.record }));
  }

  /** The pod dies as in a crash: connections cut, nothing answers, its record stays until deleted. */
  kill(id: string): boolean {
    const pod = this.pods.get(id);
    if (!pod) return false;
    pod.record.state = 'killed';
    this.release(pod);
    return true;
  }

  /**
   * The pod wedges: its port still accepts, but requests and CDP messages get no answer (a health
   * probe times out). A pod stalled while starting never becomes ready.
   */
  stall(id: string): boolean {
    const pod = this.pods.get(id);
    if (!pod || pod.record.state === 'killed') return pod !== undefined;
    pod.record.state = 'stalled';
    this.stopStarting(pod);
    return true;
  }

  /** Removes the pod and cuts everything it holds. False when there was no such pod. */
  delete(id: string): boolean {
    const pod = this.pods.get(id);
    if (!pod) return false;
    this.pods.delete(id);
    this.release(pod);
    return true;
  }

  deleteAll(): void {
    for (const id of [...this.pods.keys()]) this.delete(id);
  }

  private stopStarting(pod: PodEntry): void {
    clearTimeout(pod.timer);
    pod.timer = undefined;
    pod.settle(false); // no-op once settled
  }

  private release(pod: PodEntry): void {
    this.stopStarting(pod);
    // terminate(), not close(): a dead browser sends no close frame, the TCP connection just drops.
    for (const ws of pod.sockets) ws.terminate();
    pod.sockets.clear();
    for (const held of pod.held) held.destroy();
    pod.held.clear();
  }
}
