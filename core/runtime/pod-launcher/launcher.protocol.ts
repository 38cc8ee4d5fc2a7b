/**
 * The messages between the local driver and its pod launcher (launcher.main.ts), over the Node IPC
 * channel the driver opens when it starts the launcher: nothing else can send them.
 */

/** Start one pod's sandbox: detached (its own process group), its stdout read for the ready line. */
export interface LaunchRequest {
  kind: 'launch';
  /** The driver's number for this launch; every answer about it carries it. */
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

export type LauncherRequest = LaunchRequest | LetGoRequest;

export type LauncherAnswer =
  | { kind: 'spawned'; ref: number; pid: number }
  /** The spawn itself failed (no such command, no permission): no process exists. */
  | { kind: 'failed'; ref: number; message: string }
  /** The first line the pod printed on stdout (the agent's ready line). */
  | { kind: 'line'; ref: number; line: string }
  | { kind: 'exit'; ref: number; code: number | null; signal: string | null };
