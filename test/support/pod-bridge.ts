/**
 * A TCP door to one pod's browser for tests that drive a pod without the rest of the service: CDP
 * clients (Playwright, Puppeteer) connect to `cdpUrl` on 127.0.0.1, and each upgrade is spliced to
 * the pod's agent with the pod's secret, as the service's proxy does it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pod } from '../../core/runtime/driver.ts';
import { spliceWebSocket } from '../../proxy/socket-splice.ts';
import { testAgentAccess } from './agent-access.ts';

export interface PodBridge {
  /** `ws://127.0.0.1:<port>/devtools/browser`. */
  cdpUrl: string;
  close(): Promise<void>;
}

export async function openPodBridge(pod: Pod, access = testAgentAccess): Promise<PodBridge> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head: Buffer) => {
    spliceWebSocket(req, socket, head, { url: pod.cdpUrl, headers: access.headers(pod.id) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    cdpUrl: `ws://127.0.0.1:${port}/devtools/browser`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
