// Writes the pod agent as one plain JavaScript file, with the esbuild settings the local driver uses
// (core/runtime/node-bundle.ts), so the image runs exactly what the tests run.
// Usage: node --import tsx runtime-image/bundle-agent.mjs <outfile>
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const outfile = process.argv[2];
if (!outfile) {
  process.stderr.write('usage: node --import tsx runtime-image/bundle-agent.mjs <outfile>\n');
  process.exit(2);
}
const { podAgentCommand } = await import('../core/runtime/pod-agent-bundle.ts');
const [, bundle, ...rest] = podAgentCommand();
// podAgentCommand falls back to running the TypeScript through tsx when esbuild fails: not for an image.
if (rest.length > 0 || !bundle?.endsWith('.mjs')) {
  process.stderr.write('esbuild could not bundle core/runtime/pod-agent/main.ts\n');
  process.exit(1);
}
mkdirSync(path.dirname(path.resolve(outfile)), { recursive: true });
copyFileSync(bundle, outfile);
process.stdout.write(`${outfile}\n`);
