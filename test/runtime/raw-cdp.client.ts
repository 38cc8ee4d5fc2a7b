/** A raw CDP client for tests, over `ws`: what the proxy and every CDP library do under the hood. */
import type { Pod } from '../../core/runtime/driver.ts';
import { agentWebSocket } from '../../core/runtime/agent.client.ts';
import { testAgentAccess } from '../support/agent-access.ts';
import { once } from 'node:events';
import WebSocket from 'ws';

interface Reply {
  id?: number;
  result?: unknown;
  error?: { message: string };
}

export class RawCdp {
  private nextId = 1;
  // One permanent listener: replies can arrive back to back in one read, faster than a per-call `once`.
  private readonly pending = new Map<number, (reply: Reply) => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const reply = JSON.parse(data.toString('utf8')) as Reply;
      if (reply.id !== undefined) this.pending.get(reply.id)?.(reply);
    });
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<RawCdp> {
    // 256 MiB: the relay must carry big messages; the client must be willing to receive them.
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024, headers });
    await once(ws, 'open');
    return new RawCdp(ws);
  }

  async send<T = Record<string, unknown>>(
    method: string,
    params: object = {},
    sessionId?: string,
  ): Promise<T> {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve) => this.pending.set(id, resolve));
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    const msg = await reply;
    this.pending.delete(id);
    if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
    return msg.result as T;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** CDP to a pod's browser through its agent, with the pod's secret (as the control plane connects). */
export function connectToPod(pod: Pod): Promise<RawCdp> {
  const { url, headers } = agentWebSocket(testAgentAccess, pod, '/devtools/browser');
  return RawCdp.connect(url, headers);
}
