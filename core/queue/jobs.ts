/**
 * The job catalog: every job names its queue and payload schema. A job missing either does not
 * compile; `JobProducer.enqueue` validates the payload before it reaches Redis.
 */
import { Type, type Static } from 'typebox';

const SessionJob = Type.Object({ sessionId: Type.String({ minLength: 1 }) }, { additionalProperties: false });

export const QUEUE_NAMES = ['provision', 'lifecycle'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const JOBS = {
  /** QUEUED -> claim or cold-start a pod -> RUNNING. */
  provision: { queue: 'provision', payload: SessionJob, attempts: 3 },
  /** Fires at expires_at; re-reads Postgres and re-schedules itself when a keep-alive moved it. */
  expire: { queue: 'lifecycle', payload: SessionJob, attempts: 5 },
  /** After a session ends: delete its pod, free its slot. */
  teardown: { queue: 'lifecycle', payload: SessionJob, attempts: 8 },
} as const satisfies Record<string, { queue: QueueName; payload: typeof SessionJob; attempts: number }>;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = Static<(typeof JOBS)[N]['payload']>;

/** Job ids make enqueueing idempotent (BullMQ ignores an add whose id exists). No ':' in ids. */
export const jobIds = {
  provision: (sessionId: string) => `provision-${sessionId}`,
  expire: (sessionId: string, dueMs: number) => `expire-${sessionId}-${dueMs}`,
  teardown: (sessionId: string) => `teardown-${sessionId}`,
};
