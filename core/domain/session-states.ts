/** The session state machine, defined once as data. States are UPPERCASE on the wire. */

export const SESSION_STATUSES = [
  'QUEUED',
  'PROVISIONING',
  'RUNNING',
  'COMPLETED',
  'EXPIRED',
  'ERRORED',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const TERMINAL_STATUSES: readonly SessionStatus[] = ['COMPLETED', 'EXPIRED', 'ERRORED'];

/** Allowed moves: every write is a compare-and-set from one of these `from` states. */
export const TRANSITIONS: Record<SessionStatus, readonly SessionStatus[]> = {
  QUEUED: ['PROVISIONING', 'COMPLETED', 'ERRORED'],
  PROVISIONING: ['RUNNING', 'COMPLETED', 'ERRORED'],
  RUNNING: ['COMPLETED', 'EXPIRED', 'ERRORED'],
  COMPLETED: [],
  EXPIRED: [],
  ERRORED: [],
};

export const RELEASE_REASONS = [
  'client_release',
  'cdp_disconnect',
  'timeout',
  'admin_terminated',
  'runtime_failure',
  'provision_failed',
] as const;
export type ReleaseReason = (typeof RELEASE_REASONS)[number];

/** The terminal status each release reason leads to. */
export const END_STATUS: Record<ReleaseReason, SessionStatus> = {
  client_release: 'COMPLETED',
  cdp_disconnect: 'COMPLETED',
  admin_terminated: 'COMPLETED',
  timeout: 'EXPIRED',
  runtime_failure: 'ERRORED',
  provision_failed: 'ERRORED',
};

/** Title-case labels the dashboard shows ("Released" is COMPLETED on the API). */
export const UI_LABELS: Record<SessionStatus, string> = {
  QUEUED: 'Queued',
  PROVISIONING: 'Provisioning',
  RUNNING: 'Running',
  COMPLETED: 'Released',
  EXPIRED: 'Expired',
  ERRORED: 'Errored',
};

export function isTerminal(status: SessionStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function canTransition(from: SessionStatus, to: SessionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states from which `to` may be reached: the `expected` set of a compare-and-set write. */
export function sourcesOf(to: SessionStatus): SessionStatus[] {
  return SESSION_STATUSES.filter((from) => canTransition(from, to));
}

export function assertTransition(from: SessionStatus, to: SessionStatus): void {
  if (!canTransition(from, to)) throw new Error(`illegal session transition ${from} -> ${to}`);
}
