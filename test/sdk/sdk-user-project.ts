/**
 * What a user outside this repository does with the SDK: `npm run sdk:pack` here, then in a project of
 * their own `npm install <tarball>`. The project is a fresh directory under the OS temp dir.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
const REPO = process.cwd();

export interface Packed {
  /** The tarball `npm run sdk:pack` wrote, e.g. sdk/ventus-sessions-0.1.0.tgz. */
  tarball: string;
  bytes: number;
}

/** Runs the README's `npm run sdk:pack` and finds the tarball it names after the package's version. */
export async function packSdk(): Promise<Packed> {
  const { version } = JSON.parse(await readFile(path.join(REPO, 'sdk/package.json'), 'utf8')) as {
    version: string;
  };
  const tarball = path.join(REPO, `sdk/ventus-sessions-${version}.tgz`);
  await rm(tarball, { force: true });
  await run('npm', ['run', 'sdk:pack'], { cwd: REPO });
  return { tarball, bytes: (await stat(tarball)).size };
}

export interface UserProject {
  dir: string;
  close(): Promise<void>;
}

/**
 * A fresh ESM project outside the repository with the tarball installed by npm, offline: the SDK has
 * no dependencies, so nothing is fetched. The browser libraries (optional peers a user installs from
 * the registry) and @types/node are linked from this repository's node_modules, so the test never
 * reaches the network; they resolve from the project's own node_modules like installed ones.
 */
export async function userProject(tarball: string): Promise<UserProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ventus-sdk-user-'));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: dir });
  await mkdir(path.join(dir, 'node_modules/@types'), { recursive: true });
  for (const peer of ['playwright-core', 'puppeteer-core', '@types/node']) {
    await symlink(path.join(REPO, 'node_modules', peer), path.join(dir, 'node_modules', peer), 'dir');
  }
  return { dir, close: () => rm(dir, { recursive: true, force: true }) };
}
