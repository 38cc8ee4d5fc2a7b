/**
 * The service as production runs it, for benchmarks whose figure belongs to one process (the
 * broker's memory): broker, proxy, workers and pool controller as four OS processes on a scratch
 * database and Redis prefix, with an API key. Built on the fault tests' process stack.
 */
import { ProcessStack } from '../test/support/process-stack.ts';
import { TestContext } from '../test/support/test-context.ts';

export interface SplitStack {
  brokerUrl: string;
  apiKey: string;
  close(): Promise<void>;
}

export async function startSplitStack(
  pool: { minReady: number; maxTotal: number },
  env: Record<string, string> = {},
): Promise<SplitStack> {
  // The bench may have started embedded services; the test support reads these names.
  if (process.env.REDIS_URL) process.env.TEST_REDIS_URL ??= process.env.REDIS_URL;
  const ctx = await TestContext.create({ ...pool, env });
  let stack: ProcessStack | undefined;
  try {
    stack = await ProcessStack.start(ctx, {
      VENTUS_LOG_LEVEL: 'error',
      VENTUS_RATE_LIMIT_PER_MINUTE: '10000000',
      ...env,
    });
    const { apiKey } = await ctx.seedKey(['sessions:read', 'sessions:write']);
    const started = stack;
    return {
      brokerUrl: started.brokerUrl,
      apiKey,
      async close() {
        await started.close();
        await ctx.close();
      },
    };
  } catch (err) {
    await stack?.close();
    await ctx.close();
    throw err;
  }
}

/**
 * Run directly, it serves until SIGINT/SIGTERM and prints the broker's URL and a key, e.g. for
 * `ventus load --scenario concurrent --sessions 10000` against the broker process alone:
 *
 *   node --import tsx load-tests/split-stack.ts [--driver sim] [--max-total 11000] [--min-ready 10]
 */
if (process.argv[1] && import.meta.filename === (await import('node:path')).resolve(process.argv[1])) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      driver: { type: 'string', default: 'sim' },
      'max-total': { type: 'string', default: '11000' },
      'min-ready': { type: 'string', default: '10' },
    },
  });
  const split = await startSplitStack(
    { minReady: Number(values['min-ready']), maxTotal: Number(values['max-total']) },
    { VENTUS_DRIVER: values.driver },
  );
  process.stdout.write(`${JSON.stringify({ url: split.brokerUrl, apiKey: split.apiKey })}\n`);
  const stop = () => void split.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
