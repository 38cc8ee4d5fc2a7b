/**
 * The SDK as a user outside this repository gets it: `npm run sdk:pack`, `npm install <tarball>` in a
 * fresh project, imported from plain .mjs files on Node 20, against the real running service. This
 * tests the package (its `files` and `exports` map), not sdk/src: the other SDK tests import the source.
 */
import { copyFile, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VentusClient } from '../../sdk/src/index.ts';
import { TestContext } from '../support/test-context.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import type { Stack } from '../../stack/stack.ts';
import { packSdk, run, userProject, type Packed, type UserProject } from './sdk-user-project.ts';

const EXAMPLES = path.join(process.cwd(), 'sdk/examples');

/** Imports every entry point by its public name, shows a private path is closed, creates and releases a session. */
const CONSUMER = `
import { VentusClient, isProblem } from '@ventus/sessions';
import { connectOverCDP } from '@ventus/sessions/playwright';
import { connect } from '@ventus/sessions/puppeteer';

const resolved = ['@ventus/sessions', '@ventus/sessions/playwright', '@ventus/sessions/puppeteer'].map((s) =>
  import.meta.resolve(s),
);
let privatePath = 'importable';
try {
  await import('@ventus/sessions/dist/client.js');
} catch (err) {
  privatePath = err.code;
}
const session = await new VentusClient().createSession({ labels: { from: 'tarball' } }, { wait: true });
let status;
try {
  status = session.status;
} finally {
  await session.release();
}
const helpers = [connectOverCDP, connect, isProblem].map((f) => typeof f);
console.log(JSON.stringify({ resolved, privatePath, helpers, id: session.id, status }));
`;

describe('SDK package: packed, installed outside the repository, run as plain JavaScript', () => {
  let ctx: TestContext;
  let stack: Stack;
  let client: VentusClient;
  let site: LocalSite;
  let packed: Packed;
  let project: UserProject;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    packed = await packSdk();
    project = await userProject(packed.tarball);
    for (const file of await readdir(EXAMPLES)) {
      if (file.endsWith('.mjs')) await copyFile(path.join(EXAMPLES, file), path.join(project.dir, file));
    }
    ctx = await TestContext.create({ minReady: 1, maxTotal: 3, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    const { apiKey } = await ctx.seedKey();
    client = new VentusClient({ baseUrl: stack.url, apiKey });
    site = await serveLocalSite();
    env = { ...process.env, VENTUS_BASE_URL: stack.url, VENTUS_API_KEY: apiKey };
  });

  afterAll(async () => {
    await site?.close();
    await stack?.close();
    await ctx?.close();
    await project?.close();
  });

  it('the tarball holds the built package only, with no dependencies to fetch, under the name the READMEs give', async () => {
    console.log(`sdk tarball: ${path.basename(packed.tarball)}, ${packed.bytes} bytes`);
    const { stdout } = await run('tar', ['-tzf', packed.tarball]);
    const entries = stdout.trim().split('\n');
    expect(entries.filter((e) => !/^package\/(dist\/.+|README\.md|package\.json)$/.test(e))).toEqual([]);
    for (const entry of [
      'index.js',
      'index.d.ts',
      'playwright.js',
      'puppeteer.js',
      'generated/openapi.d.ts',
    ]) {
      expect(entries).toContain(`package/dist/${entry}`);
    }
    // The READMEs name the command and the file it writes.
    for (const readme of ['README.md', 'sdk/README.md']) {
      const text = await readFile(readme, 'utf8');
      expect(text).toContain('npm run sdk:pack');
      expect(text).toContain(`npm install /path/to/checkout/sdk/${path.basename(packed.tarball)}`);
    }
    const installed = JSON.parse(
      await readFile(path.join(project.dir, 'node_modules/@ventus/sessions/package.json'), 'utf8'),
    ) as { name: string; dependencies?: object };
    expect(installed.name).toBe('@ventus/sessions');
    expect(installed.dependencies).toBeUndefined();
  });

  it('a plain .mjs in the fresh project imports every entry point and creates a session', async () => {
    expect(project.dir.startsWith(process.cwd())).toBe(false);
    await writeFile(path.join(project.dir, 'consumer.mjs'), CONSUMER);
    const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: project.dir, env });
    const out = JSON.parse(stdout) as {
      resolved: string[];
      privatePath: string;
      helpers: string[];
      id: string;
      status: string;
    };
    const dist = `${pathToFileURL(await realpath(project.dir)).href}/node_modules/@ventus/sessions/dist/`;
    expect(out.resolved).toEqual(['index.js', 'playwright.js', 'puppeteer.js'].map((f) => dist + f));
    expect(out.privatePath).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(out.helpers).toEqual(['function', 'function', 'function']);
    expect(out.status).toBe('RUNNING');
    const ended = await client.getSession(out.id);
    expect([ended.status, ended.release_reason, ended.labels]).toEqual([
      'COMPLETED',
      'client_release',
      { from: 'tarball' },
    ]);
  });

  it('the TypeScript examples, `await using` included, type-check against the installed package', async () => {
    for (const file of (await readdir(EXAMPLES)).filter((f) => f.endsWith('.ts'))) {
      // In this repository they import the source; a user imports the package by name.
      const source = (await readFile(path.join(EXAMPLES, file), 'utf8')).replace(
        /'\.\.\/src\/(index|playwright|puppeteer)\.js'/g,
        (_, entry: string) => (entry === 'index' ? `'@ventus/sessions'` : `'@ventus/sessions/${entry}'`),
      );
      expect(source).toContain('await using');
      await writeFile(path.join(project.dir, file), source);
    }
    // TypeScript 5.2+ with @types/node (Symbol.asyncDispose, AsyncDisposable) and no esnext lib, as the README says.
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'],
        types: ['node'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      include: ['*.ts'],
    };
    await writeFile(path.join(project.dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = path.join(process.cwd(), 'node_modules/typescript/bin/tsc');
    await expect(run(process.execPath, [tsc, '-p', project.dir])).resolves.toMatchObject({ stdout: '' });
  });

  it('each plain-JS example in sdk/examples runs on this Node against the service and releases its session', async () => {
    const examples = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.mjs')).sort();
    expect(examples).toEqual(['list-sessions.mjs', 'playwright.mjs', 'puppeteer.mjs']);
    const example = async (file: string, ...args: string[]) =>
      (await run(process.execPath, [file, ...args], { cwd: project.dir, env })).stdout;

    const playwright = await example('playwright.mjs', `${site.url}/`);
    expect(playwright).toMatch(
      /^session \S+ is RUNNING\ntitle: Ventus test page\nsession \S+ is COMPLETED\n$/,
    );
    const puppeteer = await example('puppeteer.mjs', `${site.url}/`);
    expect(puppeteer).toMatch(/^title: Ventus test page viewport: \[ \d+, \d+ \]\nexpires_at: \S+\n$/);
    expect(await example('list-sessions.mjs')).toMatch(/^0 running\n422 unprocessable-entity: /);
    for await (const s of client.listSessions()) expect(s.status).toBe('COMPLETED');

    // The same file in this repository after `npm run sdk:build`: the package imports itself by name.
    const inRepo = await run(process.execPath, ['sdk/examples/list-sessions.mjs'], { env });
    expect(inRepo.stdout).toMatch(/^0 running\n422 unprocessable-entity: /);
  });

  it('playwright.mjs answers a wrong key with one line and exit code 1', async () => {
    const wrongKey = { ...env, VENTUS_API_KEY: 'vs_not_a_key' };
    const failed = await run(process.execPath, ['playwright.mjs'], { cwd: project.dir, env: wrongKey }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(/^POST \/v1\/sessions: 401 [^\n]+\n$/);
  });
});
