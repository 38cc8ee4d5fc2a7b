/**
 * Bundles run only if they are ours: in the data directory, named by content hash, checked for owner
 * and mode before they run (a file planted in a shared directory is never executed).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { podAgentBundle } from '../../core/runtime/pod-agent-bundle.ts';
import { assertPrivate } from '../../core/runtime/node-bundle.ts';

describe('agent bundles', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ventus-bundle-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are written 0644 into a 0700 directory, named by the hash of their content', () => {
    const file = podAgentBundle(path.join(dir, 'bundles'));
    const digest = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 32);
    expect(path.basename(file)).toBe(`pod-agent-${digest}.mjs`);
    expect(path.dirname(file)).toBe(path.join(dir, 'bundles'));
    expect(() => assertPrivate(file, 'the bundle')).not.toThrow();
  });

  it('refuses a bundle or directory others can write, and a symlink', () => {
    const loose = path.join(dir, 'loose.mjs');
    writeFileSync(loose, 'export {}');
    chmodSync(loose, 0o666);
    expect(() => assertPrivate(loose, 'the bundle')).toThrow(/writable by others/);
    const link = path.join(dir, 'link.mjs');
    symlinkSync(loose, link);
    expect(() => assertPrivate(link, 'the bundle')).toThrow(/symbolic link/);
    const file = podAgentBundle(path.join(dir, 'bundles'));
    chmodSync(file, 0o646);
    expect(() => podAgentBundle(path.join(dir, 'bundles'))).toThrow(/refusing to use it/);
    chmodSync(file, 0o644);
  });
});
