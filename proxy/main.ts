/** The proxy process: the CDP WebSocket data plane on PORT. */
import http from 'node:http';
import { runProcess } from '../core/process/run-process.ts';
import { attachCdpProxy } from './cdp-proxy.ts';

await runProcess('proxy', async (services, config) => {
  const server = http.createServer((req, res) => {
    const ok = req.url === '/healthz';
    res.writeHead(ok ? 200 : 404, { 'content-type': ok ? 'application/json' : 'application/problem+json' });
    res.end(
      JSON.stringify(
        ok
          ? { status: 'ok' }
          : { type: 'https://api.sessions.ventus.ai/errors/not-found', title: 'Not found', status: 404 },
      ),
    );
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
