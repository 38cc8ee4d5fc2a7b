/**
 * A benchmark's client in a process of its own, as a user's client is (the benchmark's process runs
 * the service): `script` reads one JSON plan on stdin and writes one JSON result on stdout.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export async function runClientProcess<Plan, Result>(script: URL, plan: Plan): Promise<Result> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(script)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(JSON.stringify(plan));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${script.pathname}: the client process exited with ${code}`);
  return JSON.parse(out) as Result;
}
