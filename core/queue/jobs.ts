/**
 * The job catalog: every job names its queue and payload schema. A job missing either does not
 * compile; `JobProducer.enqueue` validates the payload before it reaches Redis.
 */
import { Type, type Static, type TObject } from 'typebox';

const SessionJob = Type.Object({ sessionId: Type.String({ minLength: 1 }) }, { additionalProperties: false });
/** Housekeeping jobs repeat on a schedule and carry nothing. */
const ScheduledJob = Type.Object({}, { additionalProperties: false });

/** `maintenance` keeps housekeeping (sweeps) apart from session work and out of its queue metrics. */
export const QUEUE_NAMES = ['provision', 'lifecycle', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const JOBS = {
  /** QUEUED -> claim or cold-start a pod -> RUNNING. */
  provision: { queue: 'provision', payload: SessionJob, attempts: 3 },
  /** Fires at expires_at; re-reads Postgres and re-schedules itself when a keep-alive moved it. */
  expire: { queue: 'lifecycle', payload: SessionJob, attempts: 5 },
  /** After a session ends: delete its pod, free its slot. */
  teardown: { queue: 'lifecycle', payload: SessionJob, attempts: 8 },
  /** Every VENTUS_RECORDING_SWEEP_MS: delete recordings past their retention (each deletion audited). */
  'recording-sweep': { queue: 'maintenance', payload: ScheduledJob, attempts: 1 },
  /** Every 5 minutes: delete retired JWT signing keys nothing can present any more (audited). */
  'signing-key-sweep': { queue: 'maintenance', payload: ScheduledJob, attempts: 1 },
  /** Every VENTUS_PROFILE_PURGE_EVERY_MS: purge deleted profiles' versions after the grace (audited). */
  'profile-purge': { queue: 'maintenance', payload: ScheduledJob, attempts: 1 },
  /** Every 5 s: each pool's live figures appended to its history (the dashboard's pools page). */
  'pool-history-sample': { queue: 'maintenance', payload: ScheduledJob, attempts: 1 },
} as const satisfies Record<string, { queue: QueueName; payload: TObject; attempts: number }>;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = Static<(typeof JOBS)[N]['payload']>;

/** Job ids make enqueueing idempotent (BullMQ ignores an add whose id exists). No ':' in ids. */
export const jobIds = {
  provision: (sessionId: string) => `provision-${sessionId}`,
  expire: (sessionId: string, dueMs: number) => `expire-${sessionId}-${dueMs}`,
  teardown: (sessionId: string) => `teardown-${sessionId}`,
};
