/** The proxy process: the CDP WebSocket data plane on PORT, with /healthz, /readyz and /metrics. */
import http from 'node:http';
import { runProcess } from '../core/process/run-process.ts';
import { handleOpsRequest, notFound } from '../core/process/ops-server.ts';
import { attachCdpProxy } from './cdp-proxy.ts';

await runProcess('proxy', async (services, config) => {
  const server = http.createServer((req, res) => {
    if (!handleOpsRequest(services, req, res)) notFound(req, res);
  });
  const proxy = await attachCdpProxy(server, services, services.duplicateRedis());
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  return {
    async close() {
      await proxy.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
});
