// Writes the pod agent as one plain JavaScript file, with the esbuild settings the local driver uses
// (core/runtime/node-bundle.ts), so the image runs exactly what the tests run.
// Usage: node --import tsx runtime-image/bundle-agent.mjs <outfile>
import { copyFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const outfile = process.argv[2];
if (!outfile) {
  process.stderr.write('usage: node --import tsx runtime-image/bundle-agent.mjs <outfile>\n');
  process.exit(2);
}
const { podAgentBundle } = await import('../core/runtime/pod-agent-bundle.ts');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'ventus-bundle-'));
try {
  const bundle = podAgentBundle(path.join(scratch, 'bundles'));
  mkdirSync(path.dirname(path.resolve(outfile)), { recursive: true });
  copyFileSync(bundle, outfile);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.stdout.write(`${outfile}\n`);
