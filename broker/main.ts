/** The broker process: the REST control plane on PORT. */
import { runProcess } from '../core/process/run-process.ts';
import { buildApp } from './app.ts';

await runProcess('broker', async (services, config) => {
  const app = await buildApp(services);
  await app.listen({ port: config.port, host: config.host });
  return { close: () => app.close() };
});
