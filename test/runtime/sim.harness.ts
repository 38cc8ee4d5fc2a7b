/**
 * Looking behind the sim driver's back, for tests: the pods its shared server holds (starting ones
 * included), a way to kill one like a crash would, and a second OS process that uses the driver.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../core/runtime/driver.ts';
import { SimDriver } from '../../core/runtime/sim/sim.driver.ts';
import { stopSimServer } from '../../core/runtime/sim/sim-server.launcher.ts';
import type { DriverHarness } from './driver.conformance.ts';

export interface SimHarness extends DriverHarness {
  driver: SimDriver;
  /** A fresh temp dir per harness, as VENTUS_DATA_DIR; the driver's state is `<dataDir>/sim`. */
  dataDir: string;
  stateDir: string;
}

export async function simHarness(readyMs: number): Promise<SimHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ventus-sim-test-'));
  const stateDir = join(dataDir, 'sim');
  const driver = new SimDriver({ stateDir, readyMs });
  return {
    driver,
    headless: true,
    dataDir,
    stateDir,
    reopen: () => new SimDriver({ stateDir, readyMs }),
    async leftovers(id) {
      const held = (await driver.serverPods()).filter((p) => p.id === id);
      return held.map((p) => `pod ${p.id} (${p.state}) in the sim runtime server`);
    },
    killBrowser: (pod: Pod) => driver.injectFault(pod.id, 'kill'),
    // A simulated browser runs no JavaScript: it echoes the string back (so it also travels up).
    async largeReply(client, size) {
      const value = '0123456789abcdef'.repeat(size / 16);
      return (await client.send<{ value: string }>('Sim.echo', { value })).value;
    },
    async cleanup() {
      for (const p of await driver.serverPods()) await driver.deletePod(p.id);
      await driver.close();
      await stopSimServer(stateDir);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface OtherProcessResult {
  pod: { id: string; cdpUrl: string; controlUrl: string; createdAt: string };
  serverPid: number;
}

/**
 * Runs sim-pod.fixture.ts in a separate Node process: it creates pod `id` through its own SimDriver
 * on `stateDir` and exits without deleting it (a worker that created a pod, then went away).
 */
export function createPodInAnotherProcess(stateDir: string, id: string): Promise<OtherProcessResult> {
  const fixture = new URL('./sim-pod.fixture.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, stateDir, id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`fixture exited with ${code}: ${err.slice(-2_000)}`));
      resolve(JSON.parse(out) as OtherProcessResult);
    });
  });
}
