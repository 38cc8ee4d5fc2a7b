/** The workers process: BullMQ processors for provision, expire and teardown. */
import { runProcess } from '../core/process/run-process.ts';
import { createDriver, defaultHeadless } from '../core/runtime/create-driver.ts';
import { startWorkers } from './workers.ts';

await runProcess('workers', async (services, config) => {
  const driver = createDriver(config, services.agentAccess);
  const workers = startWorkers(services, { driver, headless: config.headless ?? defaultHeadless() });
  return {
    async close() {
      await workers.close();
      await driver.close();
    },
  };
});
