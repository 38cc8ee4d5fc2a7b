/**
 * The local driver's side of the pod launcher (launcher.main.ts): starts the launcher on first use
 * (again after it died), sends it each pod to start, and hands back what it reports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { podLauncherBundle } from './launcher.bundle.ts';
import type { LaunchRequest, LauncherAnswer } from './launcher.protocol.ts';

export interface PodExit {
  code: number | null;
  signal: string | null;
}

/** One pod's sandbox, started by the launcher. */
export interface LaunchedPod {
  pid: number;
  /** The first line the pod printed on stdout (never rejects; pends if it printed none). */
  firstLine: Promise<string>;
  /** Settles when the pod exits before it was let go, or with an error when the launcher died. */
  exited: Promise<PodExit>;
  /** Stop watching the pod (it is ready, or being deleted); it runs on by itself. */
  letGo(): void;
}

export type PodLaunch = Omit<LaunchRequest, 'kind' | 'ref'>;

interface Pending {
  /** The launcher it was sent to. */
  launcher: ChildProcess;
  spawned: { resolve(pid: number): void; reject(err: Error): void };
  line(line: string): void;
  exit(exit: PodExit): void;
  launcherDied(err: Error): void;
}

export class PodLauncher {
  private process: ChildProcess | undefined;
  private nextRef = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly bundleDir: string) {}

  /** Starts `launch` through the launcher; resolves once it runs (with its pid). */
  async launch(launch: PodLaunch): Promise<LaunchedPod> {
    const launcher = this.started();
    const ref = this.nextRef++;
    let onLine!: (line: string) => void;
    const firstLine = new Promise<string>((resolve) => (onLine = resolve));
    let onExit!: (exit: PodExit) => void;
    let onDied!: (err: Error) => void;
    const exited = new Promise<PodExit>((resolve, reject) => {
      onExit = resolve;
      onDied = reject;
    });
    exited.catch(() => {}); // the caller races it; a launcher death before it looks is not unhandled
    const pid = new Promise<number>((resolve, reject) => {
      this.pending.set(ref, {
        launcher,
        spawned: { resolve, reject },
        line: onLine,
        exit: onExit,
        launcherDied: (err) => {
          reject(err);
          onDied(err);
        },
      });
    });
    this.holdWhilePending();
    launcher.send({ kind: 'launch', ref, ...launch } satisfies LaunchRequest);
    return {
      pid: await pid,
      firstLine,
      exited,
      letGo: () => {
        if (!this.forget(ref)) return;
        if (this.process === launcher && launcher.connected) launcher.send({ kind: 'let-go', ref });
      },
    };
  }

  /** Stops the launcher (pods it started run on). */
  close(): void {
    const launcher = this.process;
    this.process = undefined;
    if (launcher?.connected) launcher.disconnect();
  }

  private started(): ChildProcess {
    if (this.process?.connected) return this.process;
    const launcher = spawn(process.execPath, [podLauncherBundle(this.bundleDir)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Nothing of the service's environment (its database URL, its keys): pods get theirs per launch.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    launcher.on('message', (answer: LauncherAnswer) => this.onAnswer(answer));
    const died = (reason: string) => {
      if (this.process === launcher) this.process = undefined;
      const err = new Error(`the pod launcher ${reason}`);
      for (const [ref, pending] of this.pending) {
        if (pending.launcher !== launcher) continue;
        this.forget(ref);
        pending.launcherDied(err);
      }
    };
    launcher.once('exit', (code, signal) => died(`exited (code ${code}, signal ${signal})`));
    launcher.once('error', (err) => died(`failed: ${err.message}`));
    // The launcher keeps this process running only while a launch waits on it (holdWhilePending).
    launcher.unref();
    launcher.channel?.unref();
    this.process = launcher;
    return launcher;
  }

  /** Stops waiting on launch `ref`; whether it was still awaited. */
  private forget(ref: number): boolean {
    const was = this.pending.delete(ref);
    this.holdWhilePending();
    return was;
  }

  /**
   * The channel holds this process's event loop while some launch is unanswered (until its pod is
   * let go): a caller awaiting only the launcher's answer must not see its process exit under it.
   */
  private holdWhilePending(): void {
    if (this.pending.size > 0) this.process?.channel?.ref();
    else this.process?.channel?.unref();
  }

  private onAnswer(answer: LauncherAnswer): void {
    const pending = this.pending.get(answer.ref);
    if (!pending) return;
    switch (answer.kind) {
      case 'spawned':
        return pending.spawned.resolve(answer.pid);
      case 'failed':
        this.forget(answer.ref);
        return pending.spawned.reject(new Error(answer.message));
      case 'line':
        return pending.line(answer.line);
      case 'exit':
        this.forget(answer.ref);
        return pending.exit({ code: answer.code, signal: answer.signal });
    }
  }
}
