/**
 * The messages between the local driver and its pod launcher (launcher.main.ts), over the Node IPC
 * channel the driver opens when it starts the launcher: nothing else can send them. Every request
 * carries the driver's number for it (`ref`), and every answer about it the same.
 */

/** Start one pod's sandbox: detached (its own process group), its stdout read for the ready line. */
export interface LaunchRequest {
  kind: 'launch';
  ref: number;
  command: string;
  args: string[];
  /** The sandbox's whole environment. */
  env: Record<string, string>;
  /** As root: the pod's own uid and gid. */
  uid?: number;
  gid?: number;
  /** The pod's log file (stderr), opened append-only by the launcher. */
  logFile: string;
}

/** The pod is ready (or given up): stop reading its stdout and forget it; it runs on by itself. */
export interface LetGoRequest {
  kind: 'let-go';
  ref: number;
}

/** Stop every process of a pod (pod-processes.util.ts, stopPodProcesses): /proc scans, off the service. */
export interface StopRequest {
  kind: 'stop';
  ref: number;
  podDir: string;
  leaderPid: number | undefined;
  graceMs: number;
}

export type LauncherRequest = LaunchRequest | LetGoRequest | StopRequest;

export type LauncherAnswer =
  | { kind: 'spawned'; ref: number; pid: number }
  /** The spawn itself failed (no such command, no permission): no process exists. */
  | { kind: 'failed'; ref: number; message: string }
  /** The first line the pod printed on stdout (the agent's ready line). */
  | { kind: 'line'; ref: number; line: string }
  | { kind: 'exit'; ref: number; code: number | null; signal: string | null }
  /** A stop is done: no process of the pod is left (or it failed, with why). */
  | { kind: 'stopped'; ref: number; error?: string };
