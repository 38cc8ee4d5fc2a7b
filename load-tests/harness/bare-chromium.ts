/**
 * The baselines a browser service is measured against, on the same machine in the same run:
 * Chromium's headless shell started bare (how many per second the machine can start), and the
 * lifecycle a user would run without us (launch it with Playwright, open a page, close it).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { percentiles, type Percentiles } from '../stats.ts';
import { busySeconds } from './machine-cpu.ts';

export const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';
/** The flags every Chromium here gets (without them it floods a closed network). */
export const QUIET_FLAGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Chromium refuses its own sandbox as root; a non-root run keeps it, as pods do. */
const SANDBOX_FLAGS = process.getuid?.() === 0 ? ['--no-sandbox'] : [];

/** A headless shell started bare, listening on DevTools. */
export interface BareShell {
  pid: number;
  /** Its `DevTools listening on` URL (the browser endpoint). */
  wsUrl: string;
  /** Kills its whole process group and removes its profile. */
  stop(): Promise<void>;
}

/**
 * Starts a headless shell with the quiet flags on `url` in its own process group (so that stopping
 * it stops its zygote and GPU processes too) and resolves once DevTools listens.
 */
export async function startHeadlessShell(url = 'about:blank'): Promise<BareShell> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ventus-bare-'));
  const child = spawn(
    HEADLESS_SHELL,
    [...QUIET_FLAGS, ...SANDBOX_FLAGS, '--remote-debugging-port=0', `--user-data-dir=${dir}`, url],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  try {
    const wsUrl = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        const listening = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (listening) resolve(listening[1]!);
      });
      child.once('exit', (code) =>
        reject(new Error(`headless shell exited ${code} before it listened: ${err}`)),
      );
    });
    return { pid: child.pid!, wsUrl, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Starts a headless shell, resolves when its DevTools endpoint is listening, then stops it. */
async function startAndStop(): Promise<number> {
  const t0 = performance.now();
  const shell = await startHeadlessShell();
  const ms = performance.now() - t0;
  await shell.stop();
  return ms;
}

export interface BareStarts {
  /** Whether Chromium's own sandbox was on (off when this runs as root: Chromium refuses it). */
  sandbox: boolean;
  starts: number;
  parallel: number;
  perSecond: number;
  /** Spawn until DevTools listens. */
  readyMs: Percentiles;
  /** The whole machine's busy CPU over the run, per start (run it on a quiet machine). */
  cpuSecondsPerStart: number;
}

/** `starts` headless shells, `parallel` at a time, each stopped as soon as it listens. */
export async function bareStartRate(starts: number, parallel = 2): Promise<BareStarts> {
  await startAndStop(); // page cache warm, like a pod image already pulled
  const ready: number[] = [];
  let next = 0;
  const cpu0 = busySeconds();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < starts) {
        next++;
        ready.push(await startAndStop());
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    sandbox: SANDBOX_FLAGS.length === 0,
    starts,
    parallel,
    perSecond: starts / seconds,
    readyMs: percentiles(ready),
    cpuSecondsPerStart: (busySeconds() - cpu0) / starts,
  };
}

/**
 * What a user does without a browser service, one at a time: Playwright launches the headless
 * shell, opens a page, loads `url`, closes the browser. Milliseconds per lifecycle.
 */
export async function directLifecycles(url: string, runs: number): Promise<Percentiles> {
  const { chromium } = await import('playwright-core');
  const once = async () => {
    const t0 = performance.now();
    const browser = await chromium.launch({ executablePath: HEADLESS_SHELL, args: QUIET_FLAGS });
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'load' });
    await browser.close();
    return performance.now() - t0;
  };
  await once();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push(await once());
  return percentiles(ms);
}
