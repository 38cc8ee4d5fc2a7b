/**
 * The kernel relay's program (kernel-relay.c). Where its source is (a checkout), it is compiled with
 * the machine's C compiler into the service's bundle directory, under the hash of the source, and
 * checked like the Node bundles (core/runtime/node-bundle.ts): ours, writable by nobody else. Where
 * the source is not (the control-plane image), `npm run build`'s dist/kernel-relay runs. Undefined
 * where neither can be had: the proxy then relays in Node.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { assertPrivate } from './node-bundle.ts';

const SOURCE = fileURLToPath(new URL('../../runtime-image/agent/kernel-relay.c', import.meta.url));
/** `npm run build`'s copy (scripts/build.mjs), for where the source is not. */
const PREBUILT = fileURLToPath(new URL('../../dist/kernel-relay', import.meta.url));

/** The compiler's command line; scripts/build.mjs builds dist/kernel-relay with the same flags. */
export const COMPILE = ['-O2', '-Wall', '-o'];

const compiled = new Map<string, Promise<string>>();

async function compile(bundleDir: string): Promise<string> {
  mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
  chmodSync(bundleDir, 0o700);
  assertPrivate(bundleDir, 'the bundle directory');
  const digest = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 32);
  const file = path.join(bundleDir, `kernel-relay-${digest}`);
  if (!existsSync(file)) {
    // Compiled under a private name, then renamed: another process may be compiling the same file.
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await promisify(execFile)(process.env.CC || 'cc', [...COMPILE, tmp, SOURCE], { timeout: 60_000 });
      chmodSync(tmp, 0o755);
      renameSync(tmp, file);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  assertPrivate(file, 'the kernel relay');
  return file;
}

/** The prebuilt program, if it is there and nobody but its owner (us, or root) can change it. */
function prebuilt(): string | undefined {
  if (!existsSync(PREBUILT)) return undefined;
  const st = lstatSync(PREBUILT);
  const ours = st.uid === 0 || st.uid === process.getuid?.();
  return st.isFile() && ours && (st.mode & 0o022) === 0 ? PREBUILT : undefined;
}

/** The checked kernel relay program for `bundleDir`, or undefined (the reason in `why`). */
export async function kernelRelayProgram(
  bundleDir: string,
  why: (reason: string) => void,
): Promise<string | undefined> {
  if (!existsSync(SOURCE)) {
    const file = prebuilt();
    if (!file) why(`neither ${SOURCE} nor a prebuilt ${PREBUILT} (npm run build) is usable`);
    return file;
  }
  let pending = compiled.get(bundleDir);
  if (!pending) {
    pending = compile(bundleDir);
    compiled.set(bundleDir, pending);
    pending.catch(() => compiled.delete(bundleDir));
  }
  try {
    return await pending;
  } catch (err) {
    why(`could not compile ${SOURCE}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return undefined;
  }
}
