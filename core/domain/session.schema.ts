/**
 * The session request and resource shapes: one definition each, used by the broker to validate
 * and (later) to generate /openapi.json. Pure data, no I/O.
 */
import { Type, type Static } from 'typebox';
import { SESSION_STATUSES, RELEASE_REASONS } from './session-states.ts';
import { ULID_PATTERN } from './ids.ts';

export const RUNTIME_KINDS = ['chromium', 'rda'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

export const SESSION_DEFAULTS = {
  region: 'us-east1',
  runtime_kind: 'chromium' as RuntimeKind,
  timeout_seconds: 1800,
  keep_alive_seconds: 0,
};

const Viewport = Type.Object(
  {
    width: Type.Integer({ minimum: 100, maximum: 7680 }),
    height: Type.Integer({ minimum: 100, maximum: 4320 }),
  },
  { additionalProperties: false },
);

const ProxySettings = Type.Object(
  {
    url: Type.String({ pattern: '^(http|https|socks5)://[^\\s]+$', maxLength: 2048 }),
    username: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

const Cookie = Type.Object(
  {
    name: Type.String({ maxLength: 4096 }),
    value: Type.String({ maxLength: 16384 }),
    domain: Type.Optional(Type.String({ maxLength: 255 })),
    path: Type.Optional(Type.String({ maxLength: 4096 })),
    url: Type.Optional(Type.String({ maxLength: 4096 })),
    expires: Type.Optional(Type.Number()),
    httpOnly: Type.Optional(Type.Boolean()),
    secure: Type.Optional(Type.Boolean()),
    sameSite: Type.Optional(Type.Enum(['Strict', 'Lax', 'None'])),
  },
  { additionalProperties: false },
);

const OriginState = Type.Object(
  {
    origin: Type.String({ maxLength: 2048 }),
    localStorage: Type.Array(
      Type.Object({ name: Type.String(), value: Type.String() }, { additionalProperties: false }),
      { maxItems: 10000 },
    ),
  },
  { additionalProperties: false },
);

export const StorageState = Type.Object(
  {
    cookies: Type.Optional(Type.Array(Cookie, { maxItems: 10000 })),
    origins: Type.Optional(Type.Array(OriginState, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

export const Labels = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.:/-]{1,63}$' }),
  Type.String({ maxLength: 256 }),
  {
    maxProperties: 32,
    // A record's key pattern only selects which keys its value schema checks: without this, a key
    // off the pattern (CR/LF, spaces, 10 KB) was accepted with any value at all.
    additionalProperties: false,
  },
);

export const CreateSessionBody = Type.Object(
  {
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    runtime_kind: Type.Optional(Type.Enum(RUNTIME_KINDS)),
    timeout_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 86400 })),
    keep_alive_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    viewport: Type.Optional(Viewport),
    user_agent: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    proxy: Type.Optional(ProxySettings),
    profile_id: Type.Optional(Type.String({ pattern: ULID_PATTERN })),
    /** Pins a version of `profile_id`; without it the profile's latest version at create time is pinned. */
    profile_version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
    storage_state: Type.Optional(StorageState),
    labels: Type.Optional(Labels),
    recording: Type.Optional(Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type CreateSessionBody = Static<typeof CreateSessionBody>;

export const UpdateSessionBody = Type.Object(
  { status: Type.Literal('REQUEST_RELEASE') },
  { additionalProperties: false },
);
export type UpdateSessionBody = Static<typeof UpdateSessionBody>;

/** What was restored into a session's browser before RUNNING: counts, never values. */
export const RestoredState = Type.Object(
  {
    cookies: Type.Integer({ minimum: 0, description: 'Cookies the browser accepted.' }),
    origins: Type.Array(
      Type.Object({
        origin: Type.String({ examples: ['https://app.example.com'] }),
        local_storage_items: Type.Integer({ minimum: 0 }),
      }),
    ),
  },
  {
    description:
      'What was restored from `storage_state` or the pinned profile version before the session turned ' +
      'RUNNING (counts only); null when nothing was restored (yet).',
  },
);
export type RestoredState = Static<typeof RestoredState>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const SessionResource = Type.Object({
  id: Type.String(),
  status: Type.Enum(SESSION_STATUSES),
  region: Type.String(),
  runtime_kind: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Nullable(Type.String({ format: 'date-time' })),
  expires_at: Type.String({ format: 'date-time' }),
  released_at: Nullable(Type.String({ format: 'date-time' })),
  release_reason: Nullable(Type.Enum(RELEASE_REASONS)),
  /** Why an ERRORED session failed, in words for its owner (e.g. the upstream proxy refused the credentials). */
  error: Nullable(Type.String()),
  connect_url: Nullable(Type.String()),
  live_view_url: Nullable(
    Type.String({
      description:
        "Read-only viewer of the session's desktop (headful pods), good for 5 minutes to open; null once " +
        'the session has ended. POST /v1/sessions/{id}/live-view gives a fresh or an interactive one.',
    }),
  ),
  timeout_seconds: Type.Integer(),
  keep_alive_seconds: Type.Integer(),
  viewport: Nullable(Viewport),
  user_agent: Nullable(Type.String()),
  proxy: Nullable(Type.Object({ url: Type.String(), username: Nullable(Type.String()) })),
  profile_id: Nullable(Type.String()),
  profile_version: Nullable(Type.Integer()),
  restored_state: Nullable(RestoredState),
  labels: Labels,
  recording: Type.Object({ enabled: Type.Boolean() }),
});
export type SessionResource = Static<typeof SessionResource>;
