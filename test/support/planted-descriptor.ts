/**
 * A test script run with a socket on one of its descriptors left open without close-on-exec, as a
 * careless parent leaves one (Node passes extra stdio as a socket pair's end). The descriptor must be
 * a high one: Node marks its low descriptors (fd 3 among them) close-on-exec at start.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface ScriptRun {
  code: number | null;
  out: string;
  err: string;
}

/** `node --import tsx <script> ...args`, with the planted socket on `plantedFd`. */
export async function runWithPlantedSocket(
  script: URL,
  args: string[],
  plantedFd: number,
): Promise<ScriptRun> {
  const stdio = Array.from({ length: plantedFd + 1 }, (_, fd) =>
    fd === 1 || fd === 2 || fd === plantedFd ? 'pipe' : 'ignore',
  );
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(script), ...args], { stdio });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}
