/**
 * Which browser binary a pod runs, and whether a headful pod is possible on this machine.
 * Shared by the local driver (to choose defaults) and the pod agent (to launch).
 */
import { accessSync, constants } from 'node:fs';
import { basename, delimiter, join } from 'node:path';

/** Debian's packages; the Kubernetes runtime image installs the same ones. */
const CHROMIUM = '/usr/bin/chromium';
const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Picks the browser executable for a pod: `VENTUS_CHROMIUM_PATH` when set, else
 * `chromium-headless-shell` for headless pods (it starts in ~0.1 s, several times faster than
 * full Chromium), else `/usr/bin/chromium`. Throws when none is installed.
 */
export function resolveChromium(opts: { headless: boolean; env?: NodeJS.ProcessEnv }): string {
  const override = (opts.env ?? process.env).VENTUS_CHROMIUM_PATH;
  if (override) return override;
  const candidates = opts.headless ? [HEADLESS_SHELL, CHROMIUM] : [CHROMIUM];
  const found = candidates.find(isExecutable);
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(', ')}); set VENTUS_CHROMIUM_PATH`);
  return found;
}

/** True for the headless shell, which is always headless and does not accept `--headless=new`. */
export function isHeadlessShell(executable: string): boolean {
  return basename(executable).includes('headless-shell');
}

/** True when `Xvfb` is on PATH, i.e. this machine can run headful pods. */
export function xvfbAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => isExecutable(join(dir, 'Xvfb')));
}
