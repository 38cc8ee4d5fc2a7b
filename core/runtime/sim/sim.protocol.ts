/**
 * What the sim runtime server and the sim driver agree on: the pod record the admin API returns,
 * the per-pod URL paths, and the admin paths. Shared by both sides so they cannot drift apart.
 *
 * Admin API (JSON, 127.0.0.1 only):
 * - `GET /admin/health` → `{ ok, pid, pods }`
 * - `POST /admin/pods` `{ id, pool, headless, readyMs }` → 201 record once the pod is ready (long
 *   poll; a creator that hangs up first gets its pod deleted), 409 when the id exists, 400 invalid
 * - `GET /admin/pods` → `{ pods: record[] }` (starting ones included); `GET /admin/pods/<id>` → record | 404
 * - `DELETE /admin/pods/<id>` → 204, also when there is no such pod
 * - `POST /admin/pods/<id>/kill` | `/stall` → 204 | 404 (fault injection, see SimFault)
 * - `POST /admin/shutdown` → 202, then the server exits
 *
 * Per pod: `/pods/<id>/json/version`, `/pods/<id>/json/list`, `/pods/<id>/healthz`,
 * `POST /pods/<id>/session`, WebSocket `/pods/<id>/devtools/browser/<id>` and `/pods/<id>/devtools/page/<targetId>`.
 */

/**
 * - starting: created, not answering yet (until its ready delay has passed)
 * - ready: answers HTTP and CDP
 * - stalled: alive but answers nothing (requests and CDP messages hang), like a wedged browser
 * - killed: gone (as after a crash): HTTP answers 502, sockets were cut, only the record remains
 */
export type SimPodState = 'starting' | 'ready' | 'stalled' | 'killed';

/** Faults the admin API can inject into one pod. */
export type SimFault = 'kill' | 'stall';

export interface SimPodRecord {
  id: string;
  pool: string;
  headless: boolean;
  /** ISO 8601, set by the server at creation. */
  createdAt: string;
  state: SimPodState;
}

export interface SimPodCreateRequest {
  id: string;
  pool: string;
  headless: boolean;
  readyMs: number;
}

/** The longest ready delay the server accepts (a creation is one long-polled request). */
export const MAX_READY_MS = 60_000;

const STATES: readonly string[] = ['starting', 'ready', 'stalled', 'killed'] satisfies SimPodState[];

export function isSimPodRecord(value: unknown): value is SimPodRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    typeof r.pool === 'string' &&
    typeof r.headless === 'boolean' &&
    typeof r.createdAt === 'string' &&
    typeof r.state === 'string' &&
    STATES.includes(r.state)
  );
}

/** Path of a pod's HTTP surface (its control URL is the server's origin plus this). */
export function podBasePath(id: string): string {
  return `/pods/${id}`;
}

/** Path of a pod's browser-level CDP endpoint; the browser's id is the pod's id. */
export function podBrowserPath(id: string): string {
  return `/pods/${id}/devtools/browser/${id}`;
}
