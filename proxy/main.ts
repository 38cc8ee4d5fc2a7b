/**
 * The proxy process: the CDP WebSocket data plane and the live view (`/v/…`) on PORT, with /healthz,
 * /readyz and /metrics.
 */
import http from 'node:http';
import { runProcess } from '../core/process/run-process.ts';
import { handleOpsRequest, notFound } from '../core/process/ops-server.ts';
import { attachCdpProxy } from './cdp-proxy.ts';
import { attachLiveViewProxy, isLiveViewPath } from './live-view.proxy.ts';

await runProcess('proxy', async (services, config) => {
  const server = http.createServer();
  const proxy = await attachCdpProxy(server, services, services.duplicateRedis());
  const liveView = await attachLiveViewProxy(server, services, services.duplicateRedis());
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (isLiveViewPath(req.url)) return liveView.handleRequest(req, res);
    if (!handleOpsRequest(services, req, res)) notFound(services, req, res);
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  return {
    async close() {
      await proxy.close();
      await liveView.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
});
