/** The pool controller process: one active (leader lock), the others stand by. */
import { runProcess } from '../core/process/run-process.ts';
import { createDriver, defaultHeadless } from '../core/runtime/create-driver.ts';
import { startController } from './controller.ts';

await runProcess('pool-controller', async (services, config) => {
  const driver = createDriver(config, services.agentAccess);
  const controller = await startController(services, services.duplicateRedis(), {
    driver,
    headless: config.headless ?? defaultHeadless(),
    intervalMs: config.reconcileIntervalMs,
  });
  return {
    async close() {
      await controller.close();
      await driver.close();
      await controller.reconciler.settle();
    },
  };
});
