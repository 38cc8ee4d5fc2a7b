/**
 * Which runtime kinds each driver can run. Pure data, shared by the broker (it refuses a pool its
 * deployment's driver cannot run) and the drivers (they refuse such a pod). `rda` (the Windows RDA
 * runtime) needs Windows nodes: only the kubernetes driver places pods on them.
 */
import type { RuntimeKind } from '../domain/session.schema.ts';
import type { DriverKind } from '../config/config.ts';

export const DRIVER_RUNTIME_KINDS: Record<DriverKind, readonly RuntimeKind[]> = {
  local: ['chromium'],
  sim: ['chromium'],
  kubernetes: ['chromium', 'rda'],
};

/** Throws when `driver` cannot run `kind` (a pod of another kind reached it): never starts the wrong runtime. */
export function assertRunsKind(driver: DriverKind, kind: string | undefined): void {
  const problem = runtimeKindProblem(driver, kind ?? 'chromium');
  if (problem) throw new Error(problem);
}

/** Why `driver` cannot run pods of `kind`, or undefined when it can. */
export function runtimeKindProblem(driver: DriverKind, kind: string): string | undefined {
  const kinds = DRIVER_RUNTIME_KINDS[driver];
  if ((kinds as readonly string[]).includes(kind)) return undefined;
  const where = Object.entries(DRIVER_RUNTIME_KINDS)
    .filter(([, k]) => (k as readonly string[]).includes(kind))
    .map(([d]) => `VENTUS_DRIVER=${d}`);
  return (
    `The ${driver} driver cannot run runtime_kind '${kind}' (it runs ${kinds.join(', ')})` +
    (where.length > 0 ? `; ${kind} pools need ${where.join(' or ')}` : '')
  );
}
