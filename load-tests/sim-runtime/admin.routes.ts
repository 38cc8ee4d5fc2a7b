/**
 * The sim runtime server's admin API (see core/runtime/sim/sim.protocol.ts): what the sim driver
 * uses to create, list and delete pods, and what fault tests use to kill or stall one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidPodId } from '../../core/runtime/pod.store.ts';
import { readBody, sendJson } from './http.util.ts';
import { PodExistsError, type SimPodRegistry } from './sim-pod.registry.ts';
import { MAX_READY_MS, type SimPodCreateRequest } from '../../core/runtime/sim/sim.protocol.ts';

export interface AdminDeps {
  registry: SimPodRegistry;
  /** Called after POST /admin/shutdown has been answered. */
  shutdown: () => void;
}

const POD_PATH = /^\/admin\/pods\/([^/]+)(?:\/(kill|stall))?$/;

function parseCreate(raw: string): SimPodCreateRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return 'body is not JSON';
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.id !== 'string' || !isValidPodId(b.id))
    return `invalid pod id ${JSON.stringify(b.id)}: use [A-Za-z0-9._-], at most 128`;
  if (typeof b.pool !== 'string' || b.pool === '') return 'pool must be a non-empty string';
  if (typeof b.headless !== 'boolean') return 'headless must be a boolean';
  const readyMs = b.readyMs ?? 0;
  if (typeof readyMs !== 'number' || !Number.isInteger(readyMs) || readyMs < 0 || readyMs > MAX_READY_MS)
    return `readyMs must be a whole number from 0 to ${MAX_READY_MS}`;
  return { id: b.id, pool: b.pool, headless: b.headless, readyMs };
}

/** Answers once the pod is ready; deletes it if the creator hangs up first (nobody would own it). */
async function createPod(deps: AdminDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const spec = parseCreate(await readBody(req));
  if (typeof spec === 'string') return sendJson(res, 400, { error: spec });
  // The creator may have given up while the body was read (an aborted createPod).
  if (res.destroyed) return;
  let pod;
  try {
    pod = deps.registry.create(spec);
  } catch (err) {
    if (err instanceof PodExistsError) return sendJson(res, 409, { error: err.message });
    throw err;
  }
  res.once('close', () => {
    if (!res.writableEnded && deps.registry.get(spec.id) === pod && pod.record.state === 'starting')
      deps.registry.delete(spec.id);
  });
  if (await pod.ready) return sendJson(res, 201, pod.record);
  const fate = pod.record.state === 'starting' ? 'deleted' : pod.record.state;
  sendJson(res, 410, { error: `pod ${spec.id} was ${fate} before it became ready` });
}

export async function handleAdmin(
  deps: AdminDeps,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const { registry } = deps;
  if (path === '/admin/health' && req.method === 'GET')
    return sendJson(res, 200, { ok: true, pid: process.pid, pods: registry.size });
  if (path === '/admin/pods') {
    if (req.method === 'GET') return sendJson(res, 200, { pods: registry.records() });
    if (req.method === 'POST') return createPod(deps, req, res);
  }
  if (path === '/admin/shutdown' && req.method === 'POST') {
    sendJson(res, 202, { ok: true });
    res.once('finish', () => deps.shutdown());
    return;
  }
  const match = POD_PATH.exec(path);
  if (match) {
    const id = match[1] ?? ''; // pod ids are URL-safe as they are (pod.store.ts)
    const fault = match[2];
    if (fault === 'kill' || fault === 'stall') {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
      const found = fault === 'kill' ? registry.kill(id) : registry.stall(id);
      return found ? sendJson(res, 204) : sendJson(res, 404, { error: `no pod ${id}` });
    }
    if (req.method === 'GET') {
      const pod = registry.get(id);
      return pod ? sendJson(res, 200, pod.record) : sendJson(res, 404, { error: `no pod ${id}` });
    }
    if (req.method === 'DELETE') {
      registry.delete(id);
      return sendJson(res, 204);
    }
  }
  return sendJson(res, 404, { error: 'not found' });
}
