/**
 * A TypeScript entry point as one plain JavaScript file, so a child process (the pod agent, the sim
 * runtime server) starts with plain `node`: no tsx, no TypeScript compile of its imports on every
 * start (seconds on a busy machine). Bundled once per source version with esbuild (already installed
 * for tsx) into the temp dir; falls back to tsx if bundling fails.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

export interface BundleSpec {
  /** The entry point (a .ts file). */
  main: string;
  /** Folders whose .ts files the entry imports: a change in any of them bundles anew. */
  sourceDirs: string[];
  /** Cache folder and file name prefix under the temp dir. */
  name: string;
}

/** A fingerprint of the sources, so a changed program is bundled anew. */
function sourceHash(dirs: string[]): string {
  const hash = createHash('sha256');
  for (const dir of dirs) {
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith('.ts'))
      .sort()) {
      hash.update(f).update(String(statSync(path.join(dir, f)).mtimeMs));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function bundle(spec: BundleSpec): string | undefined {
  try {
    const outfile = path.join(
      os.tmpdir(),
      `ventus-${spec.name}`,
      `${spec.name}-${sourceHash(spec.sourceDirs)}.mjs`,
    );
    if (!existsSync(outfile)) {
      mkdirSync(path.dirname(outfile), { recursive: true });
      // Written under a private name, then renamed: another process may be bundling the same file.
      const tmp = `${outfile}.${process.pid}.tmp`;
      const esbuild = require('esbuild') as typeof import('esbuild');
      esbuild.buildSync({
        entryPoints: [spec.main],
        outfile: tmp,
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
      renameSync(tmp, outfile);
    }
    return outfile;
  } catch {
    return undefined;
  }
}

/** A memoised `[node, ...args]` that runs the bundle (or the entry through tsx). */
export function nodeCommand(spec: BundleSpec): () => [string, ...string[]] {
  let bundled: string | undefined;
  return () => {
    bundled ??= bundle(spec);
    if (bundled) return [process.execPath, bundled];
    return [process.execPath, '--import', pathToFileURL(require.resolve('tsx')).href, spec.main];
  };
}
