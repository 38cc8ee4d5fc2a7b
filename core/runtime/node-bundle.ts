/**
 * A TypeScript entry point as one plain JavaScript file, so a child process (the pod agent, the sim
 * runtime server) starts with plain `node`: no tsx, no TypeScript compile of its imports on every
 * start (seconds on a busy machine).
 *
 * Bundles live in the service's data directory (`<dataDir>/bundles/`, 0700), named by the hash of
 * their content, and are checked before they run: the directory and the file must belong to this
 * process's user and be writable by nobody else. A file someone else planted (the old bundle cache in
 * the shared /tmp under a predictable name was one) is never executed.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

export interface BundleSpec {
  /** The entry point (a .ts file). */
  main: string;
  /** Folders whose .ts files the entry imports: a change in any of them bundles anew. */
  sourceDirs: string[];
  /** File name prefix. */
  name: string;
}

/** A fingerprint of the sources (names and modification times), so a changed program bundles anew. */
function sourceFingerprint(dirs: string[]): string {
  const hash = createHash('sha256');
  for (const dir of dirs) {
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith('.ts'))
      .sort()) {
      hash.update(f).update(String(statSync(path.join(dir, f)).mtimeMs));
    }
  }
  return hash.digest('hex');
}

/** Throws unless `file` is ours and writable by nobody else (and not a symlink). */
export function assertPrivate(file: string, what: string): void {
  const st = lstatSync(file);
  const uid = process.getuid?.();
  if (st.isSymbolicLink()) throw new Error(`${what} ${file} is a symbolic link; refusing to use it`);
  if (uid !== undefined && st.uid !== uid)
    throw new Error(
      `${what} ${file} belongs to uid ${st.uid}, not to this process (${uid}); refusing to use it`,
    );
  if ((st.mode & 0o022) !== 0)
    throw new Error(
      `${what} ${file} is writable by others (mode ${(st.mode & 0o777).toString(8)}); refusing to use it`,
    );
}

function build(spec: BundleSpec): string {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [spec.main],
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // ws loads these optional native helpers only if present.
    external: ['bufferutil', 'utf-8-validate'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** `code` as `<bundleDir>/<name>-<content hash>.mjs`, written unless there, then checked. */
function install(name: string, code: string, bundleDir: string): string {
  mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
  chmodSync(bundleDir, 0o700);
  assertPrivate(bundleDir, 'the bundle directory');
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 32);
  const file = path.join(bundleDir, `${name}-${digest}.mjs`);
  let exists = false;
  try {
    exists = lstatSync(file).isFile();
  } catch {
    // not there yet
  }
  if (!exists) {
    // Written under a private name, then renamed: another process may be bundling the same file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code, { mode: 0o644 });
    renameSync(tmp, file);
  }
  return file;
}

const built = new Map<string, string>();

/**
 * The bundle of `spec` in `bundleDir`, built if needed, checked before it is returned. Memoised per
 * source fingerprint: one esbuild run per process and program version.
 */
export function bundleFile(spec: BundleSpec, bundleDir: string): string {
  const key = `${bundleDir}\0${spec.main}\0${sourceFingerprint(spec.sourceDirs)}`;
  let file = built.get(key);
  if (file === undefined) {
    file = install(spec.name, build(spec), bundleDir);
    built.set(key, file);
  }
  assertPrivate(file, 'the bundle');
  return file;
}

/**
 * A bundle made ahead of time (`npm run build`: dist/pod-agent.mjs, where there are no sources to
 * bundle), copied into `bundleDir` and checked like one built here: the copy that runs is ours.
 */
export function prebuiltBundleFile(prebuilt: string, name: string, bundleDir: string): string {
  const key = `${bundleDir}\0${prebuilt}\0${statSync(prebuilt).mtimeMs}`;
  let file = built.get(key);
  if (file === undefined) {
    file = install(name, readFileSync(prebuilt, 'utf8'), bundleDir);
    built.set(key, file);
  }
  assertPrivate(file, 'the bundle');
  return file;
}

/**
 * The checked bundle of `spec` in `bundleDir`: bundled from its sources when they are here (a
 * checkout, built or not), else the copy `npm run build` made (`prebuilt`, in dist/).
 */
export function checkedBundle(spec: BundleSpec, prebuilt: string, bundleDir: string): string {
  if (existsSync(spec.main)) return bundleFile(spec, bundleDir);
  if (!existsSync(prebuilt))
    throw new Error(`${spec.name}: neither its sources (${spec.main}) nor ${prebuilt} (npm run build)`);
  return prebuiltBundleFile(prebuilt, spec.name, bundleDir);
}

/** `[node, ...args]` that run `spec`: its checked bundle, or the entry through tsx if bundling fails. */
export function nodeCommand(spec: BundleSpec, bundleDir: string): [string, ...string[]] {
  try {
    return [process.execPath, bundleFile(spec, bundleDir)];
  } catch (err) {
    if (err instanceof Error && /refusing to use it/.test(err.message)) throw err;
    return [process.execPath, '--import', pathToFileURL(require.resolve('tsx')).href, spec.main];
  }
}
