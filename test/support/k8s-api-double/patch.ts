/** PATCH bodies the double understands: JSON Patch (RFC 6902) and JSON merge patch (RFC 7386). */
import { status, type KubeStatus } from './validation.ts';

type Json = unknown;

interface Op {
  op: string;
  path: string;
  value?: Json;
}

function segments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyOp(doc: Record<string, Json>, op: Op): void {
  const parts = segments(op.path);
  const last = parts.pop();
  if (last === undefined) throw new Error(`invalid path ${op.path}`);
  let parent: Json = doc;
  for (const p of parts) {
    parent = (parent as Record<string, Json>)?.[p];
    if (typeof parent !== 'object' || parent === null) throw new Error(`path ${op.path} does not exist`);
  }
  const target = parent as Record<string, Json> | Json[];
  const isArray = Array.isArray(target);
  const index = last === '-' && isArray ? target.length : Number(last);
  switch (op.op) {
    case 'add':
      if (isArray) target.splice(index, 0, op.value);
      else target[last] = op.value;
      return;
    case 'replace':
    case 'remove':
      if (isArray ? !(index in target) : !Object.hasOwn(target, last)) {
        throw new Error(`unable to ${op.op} nonexistent key: ${last}`);
      }
      if (op.op === 'replace') (target as Record<string, Json>)[last] = op.value;
      else if (isArray) target.splice(index, 1);
      else delete target[last];
      return;
    case 'test':
      if (JSON.stringify((target as Record<string, Json>)[last]) !== JSON.stringify(op.value)) {
        throw new Error(`testing value ${op.path} failed`);
      }
      return;
    default:
      throw new Error(`unsupported op ${op.op}`);
  }
}

function mergePatch(target: Json, patch: Json): Json {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, Json> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, Json>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The patched copy of `object`, or a Status for a patch that cannot apply. */
export function applyPatch<T>(object: T, contentType: string, body: Json): T | KubeStatus {
  try {
    if (contentType.startsWith('application/json-patch+json')) {
      if (!Array.isArray(body)) throw new Error('a JSON patch must be an array of operations');
      const copy = structuredClone(object) as Record<string, Json>;
      for (const op of body as Op[]) applyOp(copy, op);
      return copy as T;
    }
    // Strategic merge is a merge patch for the fields ventus touches (maps, not keyed lists).
    if (/^application\/(merge-patch|strategic-merge-patch)\+json/.test(contentType)) {
      return mergePatch(object, body) as T;
    }
    return status(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`,
    );
  } catch (err) {
    return status(422, 'Invalid', err instanceof Error ? err.message : String(err));
  }
}
