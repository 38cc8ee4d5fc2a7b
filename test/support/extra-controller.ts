/** A pool controller of its own (own Services, own driver), as a second pool-controller process would be. */
import type { TestContext } from './test-context.ts';
import { openServices, type Services } from '../../core/services.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { createDriver } from '../../core/runtime/create-driver.ts';
import type { RuntimeDriver } from '../../core/runtime/driver.ts';
import { startController, type RunningController } from '../../pool-controller/controller.ts';

export interface ExtraController {
  services: Services;
  driver: RuntimeDriver;
  controller: RunningController;
  close(): Promise<void>;
}

export async function startExtraController(ctx: TestContext): Promise<ExtraController> {
  const services = await openServices(
    ctx.config,
    { databaseUrl: ctx.databaseUrl, redisUrl: ctx.redisUrl },
    createLogger('silent', {}),
  );
  const driver = createDriver(ctx.config, services.agentAccess);
  const controller = await startController(services, services.duplicateRedis(), {
    driver,
    headless: true,
    intervalMs: ctx.config.reconcileIntervalMs,
  });
  return {
    services,
    driver,
    controller,
    async close() {
      await controller.close();
      await controller.reconciler.settle();
      await driver.close();
      await services.close();
    },
  };
}
