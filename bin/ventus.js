#!/usr/bin/env node
// `ventus`: the built CLI (dist/cli.mjs, from `npm run build`) when no source it was built from is
// newer (sources absent, as in the image, count as not newer); otherwise the TypeScript sources
// through tsx's loader, so a checkout being worked on runs what is in it without a build.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function builtIsCurrent() {
  let builtAt;
  let sources;
  try {
    builtAt = statSync(`${root}dist/build.json`).mtimeMs;
    ({ sources } = JSON.parse(readFileSync(`${root}dist/build.json`, 'utf8')));
  } catch {
    return false;
  }
  return sources.every((file) => {
    try {
      return statSync(root + file).mtimeMs <= builtAt;
    } catch {
      return true;
    }
  });
}

if (builtIsCurrent()) {
  // What `node --enable-source-maps` does: stack traces name the .ts files and lines.
  process.setSourceMapsEnabled(true);
  await import('../dist/cli.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
