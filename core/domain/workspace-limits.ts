/**
 * What one workspace may hold of a shared deployment, and the workspace settings its owners manage.
 * Operators set the limits (API, `ventus workspaces set`, dashboard); a limit left unset (null in
 * Postgres) is the installation default below. Pure: no I/O.
 */
import { Type, type Static } from 'typebox';

export interface WorkspaceLimits {
  /** Sessions admitted and not yet torn down (QUEUED, PROVISIONING, RUNNING), across every pool. */
  liveSessions: number;
  /** Seconds from creation past which `:keepalive` cannot move `expires_at`; null = no ceiling. */
  maxSessionLifetimeSeconds: number | null;
  /** Live (not deleted) profiles. */
  profiles: number;
  /** Versions kept per profile; appending past it deletes the oldest (unless a live session pinned it). */
  versionsPerProfile: number;
  /** Bytes of sealed profile data (every version kept) the workspace may store. */
  storedBytes: number;
  /** CDP WebSocket clients open at once on one session (across proxy replicas). */
  cdpSocketsPerSession: number;
  /** Live-view viewers open at once on one session (per proxy replica). */
  viewersPerSession: number;
}

export type LimitName = keyof WorkspaceLimits;

/**
 * Defaults for a deployment shared by several tenants: enough for any one tenant's ordinary use, far
 * from what lets one of them take the pool, the database or a proxy replica from the others.
 * (`liveSessions` can be changed for the installation with VENTUS_WORKSPACE_MAX_LIVE_SESSIONS.)
 */
export const DEFAULT_WORKSPACE_LIMITS: WorkspaceLimits = {
  liveSessions: 50,
  maxSessionLifetimeSeconds: null,
  profiles: 100,
  versionsPerProfile: 10,
  storedBytes: 256 * 1024 * 1024,
  cdpSocketsPerSession: 16,
  viewersPerSession: 4,
};

/** A workspace's own setting (spec: recording_retention_days, default 30, max 3650 = 7 years). */
export const RECORDING_RETENTION_DAYS = { min: 1, max: 3650, default: 30 } as const;

/** API names of the limits (snake_case on the wire) and their bounds. */
export const LIMIT_FIELDS = {
  live_sessions: { name: 'liveSessions', min: 0, max: 100_000 },
  max_session_lifetime_seconds: { name: 'maxSessionLifetimeSeconds', min: 60, max: 31_536_000 },
  profiles: { name: 'profiles', min: 0, max: 1_000_000 },
  versions_per_profile: { name: 'versionsPerProfile', min: 1, max: 10_000 },
  stored_bytes: { name: 'storedBytes', min: 0, max: 1024 ** 4 },
  cdp_sockets_per_session: { name: 'cdpSocketsPerSession', min: 1, max: 1000 },
  viewers_per_session: { name: 'viewersPerSession', min: 1, max: 1000 },
} as const satisfies Record<string, { name: LimitName; min: number; max: number }>;

export type LimitField = keyof typeof LIMIT_FIELDS;

const DESCRIPTIONS: Record<LimitField, string> = {
  live_sessions:
    'Sessions admitted and not yet ended, across every pool. Enforced in the same atomic step as the ' +
    "pool's capacity; a create past it is a 429 `session-quota-exceeded`.",
  max_session_lifetime_seconds:
    'Seconds from creation that `:keepalive` cannot pass (409); also caps `timeout_seconds` at create. ' +
    'null: no ceiling (the default, as the spec says).',
  profiles: 'Live profiles.',
  versions_per_profile: 'Versions kept per profile; appending one more deletes the oldest.',
  stored_bytes: 'Bytes of profile data stored (every version kept, as sealed).',
  cdp_sockets_per_session: 'CDP WebSocket clients open at once on one session.',
  viewers_per_session: 'Live-view viewers open at once on one session.',
};

const limitSchema = (field: LimitField) =>
  Type.Integer({
    minimum: LIMIT_FIELDS[field].min,
    maximum: LIMIT_FIELDS[field].max,
    description: DESCRIPTIONS[field],
  });

/** The effective limits, as the API returns them. */
export const WorkspaceLimitsResource = Type.Object({
  live_sessions: limitSchema('live_sessions'),
  max_session_lifetime_seconds: Type.Union([limitSchema('max_session_lifetime_seconds'), Type.Null()]),
  profiles: limitSchema('profiles'),
  versions_per_profile: limitSchema('versions_per_profile'),
  stored_bytes: limitSchema('stored_bytes'),
  cdp_sockets_per_session: limitSchema('cdp_sockets_per_session'),
  viewers_per_session: limitSchema('viewers_per_session'),
});
export type WorkspaceLimitsResource = Static<typeof WorkspaceLimitsResource>;

const settable = (field: LimitField) =>
  Type.Optional(
    Type.Union([limitSchema(field), Type.Null()], {
      description: `${DESCRIPTIONS[field]} \`null\` restores the installation default.`,
    }),
  );

/** An operator's change: each field a value, or null for the installation default. */
export const PatchWorkspaceLimitsBody = Type.Object(
  {
    live_sessions: settable('live_sessions'),
    max_session_lifetime_seconds: settable('max_session_lifetime_seconds'),
    profiles: settable('profiles'),
    versions_per_profile: settable('versions_per_profile'),
    stored_bytes: settable('stored_bytes'),
    cdp_sockets_per_session: settable('cdp_sockets_per_session'),
    viewers_per_session: settable('viewers_per_session'),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchWorkspaceLimitsBody = Static<typeof PatchWorkspaceLimitsBody>;

export const PatchWorkspaceSettingsBody = Type.Object(
  {
    recording_retention_days: Type.Integer({
      minimum: RECORDING_RETENTION_DAYS.min,
      maximum: RECORDING_RETENTION_DAYS.max,
      description:
        'Days a recording is kept before it is deleted (1–3650, default 30). Applies to recordings ' +
        'made from now on; each recording keeps the deadline it was made with.',
    }),
  },
  { additionalProperties: false },
);
export type PatchWorkspaceSettingsBody = Static<typeof PatchWorkspaceSettingsBody>;

export const WorkspaceResource = Type.Object({
  id: Type.String(),
  name: Type.String(),
  recording_retention_days: Type.Integer({
    minimum: RECORDING_RETENTION_DAYS.min,
    maximum: RECORDING_RETENTION_DAYS.max,
  }),
  limits: WorkspaceLimitsResource,
  created_at: Type.String({ format: 'date-time' }),
});
export type WorkspaceResource = Static<typeof WorkspaceResource>;

export const WorkspaceList = Type.Object({ data: Type.Array(WorkspaceResource) });

/** The wire form of the effective limits. */
export function limitsResource(l: WorkspaceLimits): WorkspaceLimitsResource {
  return {
    live_sessions: l.liveSessions,
    max_session_lifetime_seconds: l.maxSessionLifetimeSeconds,
    profiles: l.profiles,
    versions_per_profile: l.versionsPerProfile,
    stored_bytes: l.storedBytes,
    cdp_sockets_per_session: l.cdpSocketsPerSession,
    viewers_per_session: l.viewersPerSession,
  };
}
