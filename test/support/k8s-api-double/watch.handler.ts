/** `GET …?watch=1`: JSON lines of ADDED/MODIFIED/DELETED from a resourceVersion, as an API server streams them. */
import type { ServerResponse } from 'node:http';
import { matchesSelector, parseSelector } from './label-selector.ts';
import type { KubeObject, ObjectStore } from './object-store.ts';
import { status } from './validation.ts';

export function serveWatch(
  store: ObjectStore,
  open: Set<ServerResponse>,
  url: URL,
  namespace: string,
  resource: string,
  res: ServerResponse,
): void {
  let selector;
  try {
    selector = parseSelector(url.searchParams.get('labelSelector'));
  } catch (err) {
    res.writeHead(400, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify(status(400, 'BadRequest', String(err))));
  }
  const rvParam = url.searchParams.get('resourceVersion');
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  // As an API server does: the headers go at once, before any event (a client's watch is open then).
  res.flushHeaders();
  const write = (type: string, object: unknown): void => {
    res.write(JSON.stringify({ type, object }) + '\n');
  };
  const matching = (o: KubeObject): boolean => matchesSelector(selector, o.metadata.labels);
  if (!rvParam || rvParam === '0') {
    for (const o of store.list(resource, namespace, selector)) write('ADDED', o);
  } else {
    const events = store.eventsSince(Number(rvParam), resource, namespace);
    if (events === 'expired') {
      // As a real API server: a 200 stream whose only event is an ERROR carrying 410 Expired.
      write(
        'ERROR',
        status(410, 'Expired', `too old resource version: ${rvParam} (${store.resourceVersion})`),
      );
      return void res.end();
    }
    for (const e of events) if (matching(e.object)) write(e.type, e.object);
  }
  const off = store.subscribe((e) => {
    if (e.resource === resource && e.namespace === namespace && matching(e.object)) write(e.type, e.object);
  });
  open.add(res);
  const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
  const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
  res.once('close', () => {
    off();
    clearTimeout(timer);
    open.delete(res);
  });
}
