/**
 * Entrypoint of the pod agent: `node --import tsx core/runtime/pod-agent/main.ts`.
 * Spawned by the local driver per pod, and the entrypoint of the Kubernetes runtime image, so it
 * imports only core/runtime/ and npm packages.
 *
 * Protocol with whoever started it: exactly one JSON line on stdout once ready,
 * `{"ready":true,"port":<n>,"pid":<pid>}`; logs (JSON) go to stderr. Exit 0 after SIGTERM/SIGINT,
 * 1 when the browser died or the start failed.
 */
import { pino } from 'pino';
import { readAgentConfig } from './agent.config.ts';
import { startPodAgent, type PodAgent } from './pod.agent.ts';
import { AGENT_SECRET_ENV, type AgentReadyLine } from './protocol.ts';

async function main(): Promise<void> {
  // The driver stops reading stdout after the ready line; never crash on EPIPE if something writes.
  process.stdout.on('error', () => undefined);
  const config = readAgentConfig(process.env);
  // The secret stays in this process's memory: nothing the agent starts inherits it.
  delete process.env[AGENT_SECRET_ENV];
  const log = pino(
    { name: 'pod-agent', base: { podId: config.podId } },
    pino.destination({ dest: 2, sync: true }),
  );

  log.info({ headless: config.headless, uptimeMs: Math.round(process.uptime() * 1000) }, 'starting');
  const starting = new AbortController();
  let agent: PodAgent | undefined;
  let exiting = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (exiting) return;
    exiting = true;
    log.info({ signal: sig }, 'stopping');
    if (!agent) {
      starting.abort(); // startPodAgent cleans up what it started, then main exits below
      return;
    }
    void agent.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    agent = await startPodAgent(config, log, starting.signal);
  } catch (err) {
    if (exiting) process.exit(0);
    log.error({ err }, 'start failed');
    process.exit(1);
  }
  if (exiting) {
    await agent.stop();
    process.exit(0);
  }
  const ready: AgentReadyLine = {
    ready: true,
    port: agent.port,
    ...(agent.socket && { socket: agent.socket }),
    pid: process.pid,
  };
  const readyLine = JSON.stringify(ready) + '\n';
  process.stdout.write(readyLine, (err) => {
    // EPIPE: whoever started us is gone (its createPod died or was aborted); nobody will ever use or
    // delete this pod through a driver, so do not linger as an orphan.
    if (err) onSignal('SIGPIPE');
  });
  // With 'starting' (uptimeMs too) and 'browser started': where a pod's start went.
  log.info({ port: agent.port, host: config.host, uptimeMs: Math.round(process.uptime() * 1000) }, 'ready');
  const code = await agent.done;
  if (!exiting) process.exit(code);
}

main().catch((err: unknown) => {
  process.stderr.write(`pod-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
