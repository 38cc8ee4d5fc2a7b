/**
 * A newcomer's first minutes, as README.md tells them, on a checkout in a directory only its owner
 * may enter (as root: like /root, 0700): `ventus up` with nothing configured (an embedded Postgres,
 * run as the postgres user when root), a calm first start, the two commands its banner prints, and
 * the README's drive.mjs against a page: it drives the browser, ends in one line on a wrong key, and
 * waits out a 503. A start that fails (a port in use) says so in one line and leaves no Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { clusterDir } from '../../stack/embedded-postgres.ts';
import {
  makeCheckout,
  readmeDriveScript,
  runIn,
  type Checkout,
  type Running,
} from '../support/newcomer-checkout.ts';
import { freePort } from '../support/free-port.ts';
import { pageEgressAllow } from '../support/page-ports.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { eventually } from '../support/eventually.ts';

/** The environment of a newcomer's shell: nothing of the suite's database or Redis. */
function newcomerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of Object.keys(env)) if (name.startsWith('VENTUS_') && !(name in extra)) delete env[name];
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  // npm's own variables (INIT_CWD: where `npm run check` was typed) are not the newcomer's.
  for (const name of Object.keys(env)) if (name === 'INIT_CWD' || name.startsWith('npm_')) delete env[name];
  return env;
}

/** Runs a command line the banner printed, in the checkout. */
async function shell(dir: string, line: string, env: NodeJS.ProcessEnv) {
  const run = runIn(dir, ['sh', '-c', line], env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

interface LogLine {
  level: number;
  msg: string;
}
const logLines = (text: string): LogLine[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

describe('the first ten minutes', () => {
  let checkout: Checkout;
  let site: LocalSite;
  let service: Running | undefined;
  let env: NodeJS.ProcessEnv;
  let port: number;

  beforeAll(async () => {
    checkout = await makeCheckout();
    site = await serveLocalSite();
    port = await freePort();
    env = newcomerEnv({
      PORT: String(port),
      // Isolation from other tests and from a developer's own service (a newcomer sets none of these).
      VENTUS_REDIS_PREFIX: `newcomer-${randomBytes(4).toString('hex')}`,
      VENTUS_POOL_MIN_READY: '1',
      VENTUS_POOL_MAX_TOTAL: '1',
      VENTUS_HEADLESS: 'true',
      VENTUS_EGRESS_ALLOW: pageEgressAllow(),
    });
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await site?.close();
    await checkout?.remove();
  });

  it('a start on a port in use fails in one line and leaves no Postgres running', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const dataDir = path.join(checkout.dir, '.ventus-busy');
    checkout.dataDirs.push(dataDir);
    try {
      const run = runIn(checkout.dir, ['node', 'bin/ventus.js', 'up'], {
        ...env,
        PORT: String(busyPort),
        VENTUS_DATA_DIR: dataDir,
      });
      expect(await run.exited).toBe(1);
      const lastLine = run.stderr().trim().split('\n').at(-1);
      expect(lastLine).toBe(
        `port ${busyPort} is in use: set PORT (e.g. PORT=${busyPort + 1} npm start) or stop what listens there`,
      );
      // The embedded Postgres it had started was made and stopped: no postmaster.pid is left.
      expect(existsSync(path.join(clusterDir(dataDir), 'PG_VERSION'))).toBe(true);
      expect(existsSync(path.join(clusterDir(dataDir), 'postmaster.pid'))).toBe(false);
    } finally {
      busy.close();
    }
  }, 180_000);

  it('ventus up from the checkout, a key from the banner, and the README script drives a browser', async () => {
    service = runIn(checkout.dir, ['node', 'bin/ventus.js', 'up'], env);
    const running = service;
    await eventually('the banner', async () => running.stderr().includes('Ventus Sessions is up'), {
      timeoutMs: 150_000,
      everyMs: 200,
    });
    const banner = running.stderr().slice(running.stderr().indexOf('Ventus Sessions is up'));
    expect(banner).toContain(`http://localhost:${port}/dashboard`);
    expect(banner).toContain(`http://localhost:${port}/docs`);
    const [createWorkspace, createKey] = banner
      .split('\n')
      .filter((l) => / (workspaces create|keys create) /.test(l))
      .map((l) => l.trim());
    expect(createWorkspace).toBe('node bin/ventus.js workspaces create acme');
    expect(createKey).toBe('node bin/ventus.js keys create --workspace acme');
    expect((await shell(checkout.dir, createWorkspace!, env)).code).toBe(0);
    const key = await shell(checkout.dir, createKey!, env);
    expect(key.code).toBe(0);
    const apiKey = key.stdout.trim();
    expect(apiKey).toMatch(/^vs_/);

    writeFileSync(path.join(checkout.dir, 'drive.mjs'), readmeDriveScript(readFileSync('README.md', 'utf8')));
    const driveEnv = { ...env, VENTUS_API_KEY: apiKey, VENTUS_URL: `http://localhost:${port}` };
    const drive = runIn(checkout.dir, ['node', 'drive.mjs', site.url], driveEnv);
    expect(await drive.exited, drive.stderr()).toBe(0);
    expect(drive.stdout().trim()).toBe('Ventus test page');

    // A first start is calm: no warning or error line (no "Redis lost its data", no Redis error).
    const loud = logLines(running.stderr()).filter((l) => l.level >= 40);
    expect(loud).toEqual([]);
  }, 300_000);

  it('the README script ends in one line on a wrong key', async () => {
    const drive = runIn(checkout.dir, ['node', 'drive.mjs', site.url], {
      ...env,
      VENTUS_API_KEY: 'vs_wrong',
      VENTUS_URL: `http://localhost:${port}`,
    });
    expect(await drive.exited).toBe(1);
    expect(drive.stderr().trim()).toBe(
      'POST /v1/sessions: 401 Unauthorized: The API key is malformed, unknown or revoked',
    );
  });

  it('the README script waits out a 503 until a slot frees; the sessions commands hold and release one', async () => {
    const key = (
      await shell(checkout.dir, 'node bin/ventus.js keys create --workspace acme', env)
    ).stdout.trim();
    const cliEnv = { ...env, VENTUS_API_KEY: key, VENTUS_URL: `http://localhost:${port}` };
    // max_total 1: a held session leaves no room.
    const held = await shell(
      checkout.dir,
      'node bin/ventus.js sessions create --keep-alive 120 --wait --json',
      cliEnv,
    );
    expect(held.code, held.stderr).toBe(0);
    const session = JSON.parse(held.stdout) as { id: string; status: string };
    expect(session.status).toBe('RUNNING');
    const listed = await shell(checkout.dir, 'node bin/ventus.js sessions list --status RUNNING', cliEnv);
    expect(listed.stdout).toContain(`${session.id}  RUNNING`);

    const drive = runIn(checkout.dir, ['node', 'drive.mjs', site.url], cliEnv);
    await eventually(
      'a 503 retried',
      async () => drive.stderr().includes('503 Insufficient capacity: retrying in'),
      {
        timeoutMs: 60_000,
        everyMs: 100,
      },
    );
    const released = await shell(
      checkout.dir,
      `node bin/ventus.js sessions release ${session.id} --json`,
      cliEnv,
    );
    expect(JSON.parse(released.stdout)).toMatchObject({ id: session.id, status: 'COMPLETED' });
    expect(await drive.exited, drive.stderr()).toBe(0);
    expect(drive.stdout().trim()).toBe('Ventus test page');
  }, 180_000);
});
