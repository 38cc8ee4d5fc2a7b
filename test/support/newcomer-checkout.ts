/**
 * A checkout where a newcomer keeps one: in a directory only its owner may enter (as root, like
 * /root, 0700), with its own node_modules (hard links: as unreachable for other users as a real
 * `npm install` there). The files are this working tree's, uncommitted changes included.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeStagedCluster } from '../../stack/embedded-postgres.ts';
import { testLocalDriver } from './local-driver.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface Checkout {
  /** The checkout (cwd of every command). */
  dir: string;
  /** Data dirs whose staged Postgres clusters are removed with the checkout. */
  dataDirs: string[];
  remove(): Promise<void>;
}

export async function makeCheckout(): Promise<Checkout> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'ventus-newcomer-'));
  await chmod(home, 0o700);
  const dir = path.join(home, 'ventus');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const from = path.join(REPO, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(from, path.join(dir, file));
  }
  execFileSync('cp', ['-al', path.join(REPO, 'node_modules'), path.join(dir, 'node_modules')]);
  const checkout: Checkout = {
    dir,
    dataDirs: [path.join(dir, '.ventus')],
    async remove() {
      for (const d of checkout.dataDirs) {
        // Pods `ventus up` left, and (as root) their base outside the checkout with its bundle copy.
        const driver = testLocalDriver(path.join(d, 'pods'));
        await driver.removeAllPods();
        await driver.close();
        await removeStagedCluster(d);
      }
      await rm(home, { recursive: true, force: true });
    },
  };
  return checkout;
}

/** A process's output as it comes, and its end. */
export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export function runIn(dir: string, command: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(command[0]!, command.slice(1), { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The README's drive.mjs: the ```js block that starts with `// drive.mjs`. */
export function readmeDriveScript(readme: string): string {
  const match = /```js\n(\/\/ drive\.mjs[\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no ```js block starting with // drive.mjs');
  return match[1]!;
}
