/**
 * The fast tier (`npm test`): every test file that cannot start a browser, found by what it
 * imports or calls, so a new test lands in the right tier by itself. A file that starts the service,
 * a driver, a pod or a CDP client is in the full tier only (`npm run check`, CI).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Anything that can start Chromium (the local driver, the whole service, the process stack). */
const BROWSER_MARKERS =
  /startStack\(|startProcessStack|fault-harness|LocalDriver|testLocalDriver|createSession|chromium|playwright|puppeteer|RawCdp|newcomer-checkout|BoundaryStack|localHarness|describeDriverConformance|runSoak|agent\.server|spawn\(|createPod\(|startImagePod/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(file);
    return entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

/** The fast tier's files under `roots`, relative to the current directory. */
export function fastTierFiles(roots: string[]): string[] {
  return roots
    .flatMap(testFiles)
    .filter((file) => !BROWSER_MARKERS.test(readFileSync(file, 'utf8')))
    .sort();
}
