/**
 * The local driver's pod launcher: a small process that starts and stops pods for the service.
 *
 * Why a process of its own: Node's `spawn` forks the calling process, and a fork copies the page
 * tables of the whole caller. In the service (hundreds of MiB) that blocked its event loop for 5 to
 * 30 ms per pod start, during which no create was answered and no CDP message relayed
 * (docs/performance.md, issue 19). Forked from this small process, the copy is small, and it is
 * not the service's event loop that waits. Stopping a pod scans /proc until none of its processes is
 * left, synchronous reads that held the service's loop up to tens of ms per delete: done here too.
 *
 * It runs as the service's user with no environment but PATH, takes requests only over the IPC
 * channel of the service that started it, and exits when that channel closes. Pods are detached (their
 * own process group): they outlive it, as they outlive the service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { stopPodProcesses } from '../pod-processes.util.ts';
import { inheritableDescriptors } from './inherited-descriptors.ts';
import type { LaunchRequest, LauncherAnswer, LauncherRequest, StopRequest } from './launcher.protocol.ts';

const pods = new Map<number, ChildProcess>();

// Every descriptor this process inherited by accident (one its starter's own parent left open without
// close-on-exec: a shell's, a supervisor's pipe) would reach every pod through the spawns: closed first.
for (const fd of inheritableDescriptors()) closeSync(fd);

function answer(message: LauncherAnswer): void {
  process.send?.(message);
}

function launch(request: LaunchRequest): void {
  const { ref } = request;
  let child: ChildProcess;
  let logFd: number | undefined;
  try {
    logFd = openSync(request.logFile, 'a', 0o600);
    child = spawn(request.command, request.args, {
      detached: true,
      stdio: ['ignore', 'pipe', logFd],
      env: request.env,
      ...(request.uid !== undefined && { uid: request.uid, gid: request.gid ?? request.uid }),
    });
  } catch (err) {
    return answer({ kind: 'failed', ref, message: err instanceof Error ? err.message : String(err) });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  // An asynchronous spawn failure (ENOENT, EACCES) comes as 'error', with no pid.
  child.once('error', (err) => {
    if (child.pid === undefined) answer({ kind: 'failed', ref, message: err.message });
    pods.delete(ref);
  });
  if (child.pid === undefined) return;
  pods.set(ref, child);
  answer({ kind: 'spawned', ref, pid: child.pid });
  createInterface({ input: child.stdout! }).once('line', (line) => {
    if (pods.get(ref) === child) answer({ kind: 'line', ref, line });
  });
  child.once('exit', (code, signal) => {
    if (pods.get(ref) !== child) return;
    pods.delete(ref);
    answer({ kind: 'exit', ref, code, signal });
  });
}

function letGo(ref: number): void {
  const child = pods.get(ref);
  if (!child) return;
  pods.delete(ref);
  // Neither the pod nor its stdout pipe holds this process; the pod lives on by itself.
  child.stdout?.destroy();
  child.unref();
}

function stop({ ref, podDir, leaderPid, graceMs }: StopRequest): void {
  stopPodProcesses(podDir, leaderPid, graceMs).then(
    () => answer({ kind: 'stopped', ref }),
    (err: unknown) =>
      answer({ kind: 'stopped', ref, error: err instanceof Error ? err.message : String(err) }),
  );
}

process.on('message', (message: LauncherRequest) => {
  if (message.kind === 'launch') launch(message);
  else if (message.kind === 'let-go') letGo(message.ref);
  else if (message.kind === 'stop') stop(message);
});
// The service went away: so does the launcher. Pods are detached and stay.
process.on('disconnect', () => process.exit(0));
