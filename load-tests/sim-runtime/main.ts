/**
 * Entrypoint of the sim runtime server, started detached by the sim driver
 * (core/runtime/sim/sim-server.launcher.ts) as a plain `node` script (bundled by
 * core/runtime/sim/sim-server.bundle.ts, which finds this file by path: the server is a test and
 * load-test tool, not part of the control plane, and ships in no image). Configured through its
 * environment: SIM_STATE_DIR (required), SIM_HOST (default 127.0.0.1), SIM_PORT (default 0: any
 * free port), SIM_IDLE_EXIT_MS (default 15 min).
 *
 * Protocol with whoever started it: once listening it writes `<SIM_STATE_DIR>/server.json`, then
 * prints exactly one JSON line on stdout, `{"ready":true,"port":<n>,"pid":<pid>}`; logs go to stderr.
 * It exits 0 on SIGTERM/SIGINT, on POST /admin/shutdown, when server.json stops naming it (its data
 * dir was wiped, or another server took over), or after SIM_IDLE_EXIT_MS with no pods and no traffic.
 */
import { pino } from 'pino';
import { SimPodRegistry } from './sim-pod.registry.ts';
import { createSimRuntimeServer } from './sim-runtime.server.ts';
import {
  readSimServerState,
  removeSimServerState,
  writeSimServerState,
} from '../../core/runtime/sim/sim-server.state.ts';

const WATCH_MS = 2_000;

function numberFrom(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

async function main(): Promise<void> {
  // The starter stops reading stdout after the ready line; never crash on EPIPE.
  process.stdout.on('error', () => undefined);
  const stateDir = process.env.SIM_STATE_DIR;
  if (!stateDir) throw new Error('SIM_STATE_DIR is required');
  const host = process.env.SIM_HOST || '127.0.0.1';
  const idleExitMs = numberFrom(process.env.SIM_IDLE_EXIT_MS, 15 * 60_000);
  const log = pino({ name: 'sim-runtime' }, pino.destination({ dest: 2, sync: true }));

  const registry = new SimPodRegistry();
  let lastActivity = Date.now();
  let stopping = false;
  let listening = false;
  const watch = setInterval(() => {
    if (!listening) return;
    void readSimServerState(stateDir).then((state) => {
      if (state?.pid !== process.pid) return stop('server.json no longer names this server');
      if (registry.size === 0 && Date.now() - lastActivity > idleExitMs) stop('idle');
    });
  }, WATCH_MS);
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ reason, pods: registry.size }, 'stopping');
    clearInterval(watch);
    void server
      .close()
      .then(() => removeSimServerState(stateDir, process.pid))
      .finally(() => process.exit(0));
  };
  const server = createSimRuntimeServer({
    registry,
    onActivity: () => (lastActivity = Date.now()),
    shutdown: () => stop('admin shutdown'),
    warn: (message, err) => log.warn({ err }, message),
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await new Promise<void>((resolve, reject) => {
    server.http.once('error', reject);
    server.http.listen(numberFrom(process.env.SIM_PORT, 0), host, () => resolve());
  });
  const address = server.http.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  const port = address.port;
  await writeSimServerState(stateDir, { pid: process.pid, host, port, startedAt: new Date().toISOString() });

  listening = true;
  process.stdout.write(JSON.stringify({ ready: true, port, pid: process.pid }) + '\n');
  log.info({ host, port, stateDir }, 'ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`sim-runtime: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
