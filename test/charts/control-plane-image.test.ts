/**
 * The control-plane image (Dockerfile) holds every file its programs import: the four processes the
 * chart runs and `ventus` (bin/ventus.js → cli/main.ts). Without a Docker engine here, the image's
 * contents are read from its COPY lines and checked against the import closure esbuild resolves.
 */
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ENTRY_POINTS = [
  'broker/main.ts',
  'workers/main.ts',
  'pool-controller/main.ts',
  'proxy/main.ts',
  'cli/main.ts',
];
/**
 * Imported only by `ventus load` (a dynamic import), which runs from a checkout: the benchmarks and
 * their harness do not ship.
 */
const CHECKOUT_ONLY = ['load-tests/'];

function copiedPaths(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^COPY\s+(\S+)\s+\S+$/gm)].map((m) => m[1]!.replace(/^\.\//, ''));
}

describe('control-plane image', () => {
  it('copies every source file its programs import', async () => {
    const copied = copiedPaths(readFileSync('Dockerfile', 'utf8'));
    expect(copied).toContain('core');
    const result = await build({
      entryPoints: ENTRY_POINTS,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir: 'unused',
      logLevel: 'silent',
    });
    const sources = Object.keys(result.metafile.inputs);
    expect(sources).toContain('runtime-image/agent/protocol.ts');
    const missing = sources.filter(
      (file) =>
        !CHECKOUT_ONLY.some((dir) => file.startsWith(dir)) &&
        !copied.some((path) => file === path || file.startsWith(`${path}/`)),
    );
    expect(missing).toEqual([]);
  });
});
