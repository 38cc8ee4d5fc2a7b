/**
 * The local driver's side of the pod launcher (launcher.main.ts): starts the launcher on first use
 * (again after it died), sends it each pod to start or stop, and hands back what it reports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { podLauncherBundle } from './launcher.bundle.ts';
import type { LaunchRequest, LauncherAnswer, StopRequest } from './launcher.protocol.ts';

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
export type PodStop = Omit<StopRequest, 'kind' | 'ref'>;

/** The launcher died with requests unanswered: they may or may not have been carried out. */
export class LauncherDiedError extends Error {
  override name = 'LauncherDiedError';
}

/** A request the launcher has not finished answering. */
interface Pending {
  /** The launcher it was sent to. */
  launcher: ChildProcess;
  onAnswer(answer: LauncherAnswer): void;
  launcherDied(err: Error): void;
}

export class PodLauncher {
  private process: ChildProcess | undefined;
  private nextRef = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly bundleDir: string) {}

  /** Starts `launch` through the launcher; resolves once it runs (with its pid). */
  async launch(launch: PodLaunch): Promise<LaunchedPod> {
    let onLine!: (line: string) => void;
    const firstLine = new Promise<string>((resolve) => (onLine = resolve));
    let onExit!: (exit: PodExit) => void;
    let onDied!: (err: Error) => void;
    const exited = new Promise<PodExit>((resolve, reject) => {
      onExit = resolve;
      onDied = reject;
    });
    exited.catch(() => {}); // the caller races it; a launcher death before it looks is not unhandled
    let spawned!: { resolve(pid: number): void; reject(err: Error): void };
    const pid = new Promise<number>((resolve, reject) => (spawned = { resolve, reject }));
    const [ref, launcher] = this.send(
      { kind: 'launch', ...launch },
      (answer) => {
        switch (answer.kind) {
          case 'spawned':
            return spawned.resolve(answer.pid);
          case 'failed':
            this.forget(answer.ref);
            return spawned.reject(new Error(answer.message));
          case 'line':
            return onLine(answer.line);
          case 'exit':
            this.forget(answer.ref);
            return onExit({ code: answer.code, signal: answer.signal });
          case 'stopped':
            return; // answers a stop, never a launch
        }
      },
      (err) => {
        spawned.reject(err);
        onDied(err);
      },
    );
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

  /** Stops every process of a pod through the launcher; resolves once none is left. */
  stop(stop: PodStop): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.send(
        { kind: 'stop', ...stop },
        (answer) => {
          if (answer.kind !== 'stopped') return;
          this.forget(answer.ref);
          if (answer.error === undefined) resolve();
          else reject(new Error(`stopping the pod in ${stop.podDir}: ${answer.error}`));
        },
        reject,
      );
    });
  }

  /** Stops the launcher (pods it started run on). */
  close(): void {
    const launcher = this.process;
    this.process = undefined;
    if (launcher?.connected) launcher.disconnect();
  }

  /** Sends a request under a new ref; its answers go to `onAnswer` until it is forgotten. */
  private send(
    request: Omit<LaunchRequest, 'ref'> | Omit<StopRequest, 'ref'>,
    onAnswer: (answer: LauncherAnswer) => void,
    launcherDied: (err: Error) => void,
  ): [number, ChildProcess] {
    const launcher = this.started();
    const ref = this.nextRef++;
    this.pending.set(ref, { launcher, onAnswer, launcherDied });
    this.holdWhilePending();
    launcher.send({ ...request, ref });
    return [ref, launcher];
  }

  private started(): ChildProcess {
    if (this.process?.connected) return this.process;
    const launcher = spawn(process.execPath, [podLauncherBundle(this.bundleDir)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Nothing of the service's environment (its database URL, its keys): pods get theirs per launch.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    launcher.on('message', (answer: LauncherAnswer) => this.pending.get(answer.ref)?.onAnswer(answer));
    const died = (reason: string) => {
      if (this.process === launcher) this.process = undefined;
      const err = new LauncherDiedError(`the pod launcher ${reason}`);
      for (const [ref, pending] of this.pending) {
        if (pending.launcher !== launcher) continue;
        this.forget(ref);
        pending.launcherDied(err);
      }
    };
    launcher.once('exit', (code, signal) => died(`exited (code ${code}, signal ${signal})`));
    launcher.once('error', (err) => died(`failed: ${err.message}`));
    // The launcher keeps this process running only while a request waits on it (holdWhilePending).
    launcher.unref();
    launcher.channel?.unref();
    this.process = launcher;
    return launcher;
  }

  /** Stops waiting on request `ref`; whether it was still awaited. */
  private forget(ref: number): boolean {
    const was = this.pending.delete(ref);
    this.holdWhilePending();
    return was;
  }

  /**
   * The channel holds this process's event loop while some request is unanswered (a launch: until
   * its pod is let go): a caller awaiting only the launcher must not see its process exit under it.
   */
  private holdWhilePending(): void {
    if (this.pending.size > 0) this.process?.channel?.ref();
    else this.process?.channel?.unref();
  }
}
