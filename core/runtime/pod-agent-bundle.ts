/**
 * The pod agent as one plain JavaScript file. Starting it through tsx costs a TypeScript compile of
 * its imports on every pod start (seconds on a busy machine); bundled once per process with esbuild
 * (already installed for tsx), a pod's agent starts with plain `node`. Falls back to tsx if bundling
 * fails.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const AGENT_DIR = fileURLToPath(new URL('./pod-agent/', import.meta.url));
const AGENT_MAIN = path.join(AGENT_DIR, 'main.ts');
const require = createRequire(import.meta.url);

let bundled: string | undefined;

/** A fingerprint of the agent's sources, so a changed agent is bundled anew. */
function sourceHash(): string {
  const hash = createHash('sha256');
  for (const dir of [AGENT_DIR, path.dirname(AGENT_DIR)]) {
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith('.ts'))
      .sort()) {
      hash.update(f).update(String(statSync(path.join(dir, f)).mtimeMs));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function bundle(): string | undefined {
  try {
    const outfile = path.join(os.tmpdir(), 'ventus-pod-agent', `agent-${sourceHash()}.mjs`);
    if (!existsSync(outfile)) {
      mkdirSync(path.dirname(outfile), { recursive: true });
      const esbuild = require('esbuild') as typeof import('esbuild');
      esbuild.buildSync({
        entryPoints: [AGENT_MAIN],
        outfile,
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
      readFileSync(outfile); // fail here, not in every pod, if the write did not happen
    }
    return outfile;
  } catch {
    return undefined;
  }
}

/** `[node, ...args]` that start a pod agent (configured through its environment). */
export function podAgentCommand(): [string, ...string[]] {
  bundled ??= bundle();
  if (bundled) return [process.execPath, bundled];
  return [process.execPath, '--import', pathToFileURL(require.resolve('tsx')).href, AGENT_MAIN];
}
