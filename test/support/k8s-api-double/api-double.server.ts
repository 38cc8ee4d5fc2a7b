/**
 * A test double of the Kubernetes API server, enough for @kubernetes/client-node and the kubernetes
 * driver: pods (create, get, list and watch with label selectors and resourceVersion, patch, delete
 * with a grace period), secrets (CRUD; `stringData` folded into `data`; deleted with their owner
 * Pod, as the garbage collector does) and coordination.k8s.io leases (CRUD). Plain HTTP on
 * 127.0.0.1, no auth.
 *
 * Pods are admitted as in a namespace labelled Pod Security `restricted` (what the chart does to the
 * browser namespace): a Pod that level forbids is refused with 403 (`podSecurity`, on by default).
 *
 * Test hooks: `failRequests` (answer 5xx for a count or a time), `delayMs` and `maxInFlight` (to see
 * a client's concurrency), `expireWatches` (compaction: resuming watches get 410 Gone).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SelectorError, parseSelector } from './label-selector.ts';
import { ObjectStore, type KubeObject } from './object-store.ts';
import { applyPatch } from './patch.ts';
import { restrictedViolation } from './pod-security.ts';
import { serveWatch } from './watch.handler.ts';
import {
  status,
  toStoredSecret,
  validateLease,
  validatePod,
  validatePodUpdate,
  validateSecret,
  type KubeStatus,
} from './validation.ts';

interface ResourceDef {
  kind: string;
  apiVersion: string;
  validate(o: KubeObject): KubeStatus | undefined;
  validateUpdate(before: KubeObject, after: KubeObject): KubeStatus | undefined;
  /** What the API server makes of a written object before it validates and stores it. */
  normalize?(o: KubeObject): KubeObject;
}

const RESOURCES: Record<string, ResourceDef> = {
  pods: { kind: 'Pod', apiVersion: 'v1', validate: validatePod, validateUpdate: validatePodUpdate },
  secrets: {
    kind: 'Secret',
    apiVersion: 'v1',
    validate: validateSecret,
    validateUpdate: (_before, after) => validateSecret(after),
    normalize: toStoredSecret,
  },
  leases: {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    validate: validateLease,
    validateUpdate: (_before, after) => validateLease(after),
  },
};

const ROUTE =
  /^\/(?:api\/v1|apis\/coordination\.k8s\.io\/v1)\/namespaces\/([a-z0-9-]+)\/(pods|secrets|leases)(?:\/([^/]+))?$/;

/** Called when a Pod gets its deletionTimestamp; resolve once its containers are stopped. */
export type PodTerminator = (namespace: string, pod: KubeObject, graceSeconds: number) => Promise<void>;

export class K8sApiDouble {
  readonly store = new ObjectStore();
  /** Delay before answering each non-watch request (ms): makes a client's concurrency observable. */
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Requests answered, by `METHOD resource` (watches as `WATCH pods`). */
  readonly counts = new Map<string, number>();
  terminator: PodTerminator | undefined;
  /** Pod Security admission: `restricted`, as the chart labels the browser namespace, or none. */
  podSecurity: 'restricted' | 'none' = 'restricted';
  private failing: { remaining: number; until: number; code: number } | undefined;
  private readonly watches = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<K8sApiDouble> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const double = new K8sApiDouble(server, `http://127.0.0.1:${port}`);
    double.store.subscribe((e) => {
      // Asynchronous, as the real collector is (and never inside another change's notification).
      if (e.resource === 'pods' && e.type === 'DELETED')
        setImmediate(() => double.collectDependents(e.namespace, e.object));
    });
    server.on('request', (req, res) => {
      double.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, status(500, 'InternalError', String(err)));
        else res.destroy();
      });
    });
    return double;
  }

  /** Answers the next `count` requests (or all for `forMs`) with `code` (default 500), watches included. */
  failRequests(opts: { count?: number; forMs?: number; code?: number }): void {
    this.failing = {
      remaining: opts.count ?? Infinity,
      until: opts.forMs !== undefined ? Date.now() + opts.forMs : Infinity,
      code: opts.code ?? 500,
    };
  }

  /** Compacts history and ends every open watch: each client's resume gets 410 Gone. */
  expireWatches(): void {
    this.store.compact();
    for (const res of this.watches) res.end();
  }

  /**
   * The garbage collector: objects whose only owner was `owner` go with it (background propagation).
   * Secrets are the only dependents the driver makes.
   */
  private collectDependents(namespace: string, owner: KubeObject): void {
    for (const o of this.store.list('secrets', namespace, [])) {
      const owners = (o.metadata.ownerReferences ?? []) as { uid?: string }[];
      if (owners.length > 0 && owners.every((ref) => ref.uid === owner.metadata.uid)) {
        this.store.remove('secrets', namespace, o.metadata.name);
      }
    }
  }

  async close(): Promise<void> {
    for (const res of this.watches) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const match = ROUTE.exec(url.pathname);
    const watching = ['1', 'true'].includes(url.searchParams.get('watch') ?? '');
    const method = watching ? 'WATCH' : (req.method ?? 'GET');
    const counter = `${method} ${match?.[2] ?? url.pathname}`;
    this.counts.set(counter, (this.counts.get(counter) ?? 0) + 1);
    const body = await readBody(req);
    if (this.failing && this.failing.remaining > 0 && Date.now() < this.failing.until) {
      this.failing.remaining--;
      const { code } = this.failing;
      return send(res, code, status(code, 'InternalError', 'injected failure (test double)'));
    }
    if (!match)
      return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const [, namespace, resource, name] = match as unknown as [string, string, string, string | undefined];
    const def = RESOURCES[resource]!;
    if (watching && !name) return serveWatch(this.store, this.watches, url, namespace, resource, res);

    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      const [code, answer] = this.route(req, url, body, namespace, resource, def, name);
      send(res, code, answer);
    } finally {
      this.inFlight--;
    }
  }

  private route(
    req: IncomingMessage,
    url: URL,
    body: unknown,
    namespace: string,
    resource: string,
    def: ResourceDef,
    name: string | undefined,
  ): [number, unknown] {
    const notFound = (): [number, KubeStatus] => [
      404,
      status(404, 'NotFound', `${resource} ${JSON.stringify(name)} not found`, {
        name: name ?? '',
        kind: resource,
      }),
    ];
    const fail = (s: KubeStatus): [number, KubeStatus] => [s.code, s];
    if (!name) {
      if (req.method === 'GET') {
        let selector;
        try {
          selector = parseSelector(url.searchParams.get('labelSelector'));
        } catch (err) {
          if (err instanceof SelectorError) return fail(status(400, 'BadRequest', err.message));
          throw err;
        }
        const items = this.store.list(resource, namespace, selector);
        const meta = { resourceVersion: this.store.resourceVersion };
        return [200, { kind: `${def.kind}List`, apiVersion: def.apiVersion, metadata: meta, items }];
      }
      if (req.method !== 'POST') return fail(status(405, 'MethodNotAllowed', 'method not allowed'));
      if (typeof body !== 'object' || body === null) return fail(status(400, 'BadRequest', 'no body'));
      const object = def.normalize ? def.normalize(body as KubeObject) : (body as KubeObject);
      if (object.kind !== def.kind || object.apiVersion !== def.apiVersion) {
        return fail(status(400, 'BadRequest', `expected ${def.apiVersion} ${def.kind}`));
      }
      object.metadata ??= { name: '' };
      if (object.metadata.namespace && object.metadata.namespace !== namespace) {
        return fail(
          status(
            400,
            'BadRequest',
            'the namespace of the provided object does not match the namespace sent on the request',
          ),
        );
      }
      const invalid = def.validate(object);
      if (invalid) return fail(invalid);
      const forbidden =
        resource === 'pods' && this.podSecurity === 'restricted' && restrictedViolation(object);
      if (forbidden) return fail(forbidden);
      if (this.store.get(resource, namespace, object.metadata.name)) {
        const n = object.metadata.name;
        return fail(
          status(409, 'AlreadyExists', `${resource} ${JSON.stringify(n)} already exists`, {
            name: n,
            kind: resource,
          }),
        );
      }
      if (resource === 'pods') object.status = { phase: 'Pending', qosClass: 'BestEffort' };
      return [201, this.store.create(resource, namespace, object)];
    }
    const current = this.store.get(resource, namespace, name);
    if (!current) return notFound();
    switch (req.method) {
      case 'GET':
        return [200, current];
      case 'PUT':
      case 'PATCH': {
        let next: KubeObject | KubeStatus;
        if (req.method === 'PUT') {
          next = body as KubeObject;
          const rv = next.metadata?.resourceVersion;
          if (rv && rv !== current.metadata.resourceVersion) {
            return fail(
              status(
                409,
                'Conflict',
                `Operation cannot be fulfilled on ${resource} ${JSON.stringify(name)}: the object has been modified; please apply your changes to the latest version and try again`,
              ),
            );
          }
        } else {
          next = applyPatch(current, String(req.headers['content-type'] ?? ''), body);
          if ((next as KubeStatus).kind === 'Status') return fail(next as KubeStatus);
        }
        const updated = def.normalize ? def.normalize(next as KubeObject) : (next as KubeObject);
        // Server-owned metadata cannot be changed by an update.
        updated.metadata = {
          ...updated.metadata,
          name,
          namespace,
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
        };
        if (current.metadata.deletionTimestamp)
          updated.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
        if (resource === 'pods') updated.status = current.status;
        const invalid = def.validateUpdate(current, updated);
        if (invalid) return fail(invalid);
        return [200, this.store.update(resource, namespace, updated)];
      }
      case 'DELETE':
        return [200, this.delete(url, body, namespace, resource, current)];
      case undefined:
      default:
        return fail(status(405, 'MethodNotAllowed', 'method not allowed'));
    }
  }

  private delete(
    url: URL,
    body: unknown,
    namespace: string,
    resource: string,
    current: KubeObject,
  ): KubeObject {
    const name = current.metadata.name;
    if (resource !== 'pods' || !this.terminator) return this.store.remove(resource, namespace, name)!;
    if (current.metadata.deletionTimestamp) return current; // already terminating
    const fromBody = (body as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds;
    const fromQuery = url.searchParams.get('gracePeriodSeconds');
    const grace =
      fromQuery !== null
        ? Number(fromQuery)
        : (fromBody ?? (current.spec?.terminationGracePeriodSeconds as number | undefined) ?? 30);
    const marked = this.store.modify(resource, namespace, name, (o) => {
      o.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString();
      o.metadata.deletionGracePeriodSeconds = grace;
    })!;
    // The kubelet stops the containers within the grace period; only then does the object go.
    void this.terminator(namespace, marked, grace)
      .catch(() => undefined)
      .then(() => this.store.remove(resource, namespace, name));
    return marked;
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
