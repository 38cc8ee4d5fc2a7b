/**
 * The session request and resource shapes: one definition each, used by the broker to validate
 * and (later) to generate /openapi.json. Pure data, no I/O.
 */
import { Type, type Static } from 'typebox';
import { SESSION_STATUSES, RELEASE_REASONS } from './session-states.ts';
import { ULID_PATTERN } from './ids.ts';
import { named } from './schema-name.ts';

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
    width: Type.Integer({
      minimum: 100,
      maximum: 7680,
      description: 'Width in CSS pixels, 100 to 7680.',
      examples: [1280],
    }),
    height: Type.Integer({
      minimum: 100,
      maximum: 4320,
      description: 'Height in CSS pixels, 100 to 4320.',
      examples: [800],
    }),
  },
  {
    ...named('Viewport'),
    additionalProperties: false,
    description: "The page viewport's size. Default: the browser window's (1920 x 1080 on headful pods).",
  },
);

/**
 * Exactly the upstream proxies a pod can use (core/domain/proxy-settings.ts says why in words):
 * `http://host[:port][/]`, no credentials in the URL, no path, query or fragment.
 */
export const PROXY_URL_PATTERN = '^http://[^\\s/?#@]+/?$';

const ProxySettings = Type.Object(
  {
    url: Type.String({
      pattern: PROXY_URL_PATTERN,
      maxLength: 2048,
      description:
        'An HTTP proxy, `http://host:port` (HTTPS sites still go through it by CONNECT). Credentials go in ' +
        '`username`/`password`, never in the URL. Private, loopback and metadata addresses are refused (422).',
      examples: ['http://proxy.example.com:3128'],
    }),
    username: Type.Optional(
      Type.String({ maxLength: 256, description: 'Proxy user, if it asks for one.', examples: ['scraper'] }),
    ),
    password: Type.Optional(
      Type.String({
        maxLength: 1024,
        description: 'Proxy password: sealed at rest, never returned.',
        examples: ['proxy-password'],
      }),
    ),
  },
  {
    ...named('ProxySettings'),
    additionalProperties: false,
    description: "Route the browser's traffic through this proxy. Default: none (direct).",
  },
);

const Cookie = Type.Object(
  {
    name: Type.String({ maxLength: 4096, description: 'Cookie name.', examples: ['sid'] }),
    value: Type.String({ maxLength: 16384, description: 'Cookie value.', examples: ['d41d8cd98f00'] }),
    domain: Type.Optional(
      Type.String({
        maxLength: 255,
        description: 'Domain (give it or `url`).',
        examples: ['app.example.com'],
      }),
    ),
    path: Type.Optional(Type.String({ maxLength: 4096, description: 'Path; default `/`.', examples: ['/'] })),
    url: Type.Optional(
      Type.String({
        maxLength: 4096,
        description: 'Sets domain and path from a URL instead.',
        examples: ['https://app.example.com/'],
      }),
    ),
    expires: Type.Optional(
      Type.Number({
        description: 'Unix time in seconds; absent or -1: a session cookie.',
        examples: [1798761600],
      }),
    ),
    httpOnly: Type.Optional(Type.Boolean({ description: 'Hidden from page scripts; default false.' })),
    secure: Type.Optional(Type.Boolean({ description: 'Sent over HTTPS only; default false.' })),
    sameSite: Type.Optional(
      Type.Enum(['Strict', 'Lax', 'None'], {
        description: "SameSite attribute; unset: the browser's default (Lax in Chromium).",
        examples: ['Lax'],
      }),
    ),
  },
  {
    ...named('Cookie'),
    additionalProperties: false,
    description: "A cookie, in Playwright's storageState shape.",
  },
);

const OriginState = Type.Object(
  {
    origin: Type.String({
      maxLength: 2048,
      description: 'The origin the items belong to.',
      examples: ['https://app.example.com'],
    }),
    localStorage: Type.Array(
      Type.Object(
        {
          name: Type.String({ description: 'Item key.', examples: ['theme'] }),
          value: Type.String({ description: 'Item value.', examples: ['dark'] }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 10000, description: "The origin's localStorage items, at most 10,000." },
    ),
  },
  { ...named('OriginState'), additionalProperties: false },
);

export const StorageState = Type.Object(
  {
    cookies: Type.Optional(Type.Array(Cookie, { maxItems: 10000, description: 'Cookies, at most 10,000.' })),
    origins: Type.Optional(
      Type.Array(OriginState, {
        maxItems: 1000,
        description: 'localStorage per origin, at most 1,000 origins.',
      }),
    ),
  },
  {
    ...named('StorageState'),
    additionalProperties: false,
    description:
      "Cookies and localStorage to load before RUNNING (Playwright's storageState shape). Default: none.",
  },
);

/** Longest label key, in characters. */
export const LABEL_KEY_MAX = 128;
/** Free-form label keys: any non-empty printable text (no control characters), bounded length. */
export const LABEL_KEY_PATTERN = `^[^\\u0000-\\u001f\\u007f]{1,${LABEL_KEY_MAX}}$`;

export const Labels = Type.Record(Type.String(), Type.String({ maxLength: 256 }), {
  // `propertyNames` (not a record key pattern) is what /openapi.json keeps: the OpenAPI generator folds
  // patternProperties into additionalProperties and loses the key rule.
  ...named('Labels'),
  propertyNames: { type: 'string', pattern: LABEL_KEY_PATTERN },
  maxProperties: 32,
  description:
    `Free-form key/value strings (at most 32): a key is any printable text of 1-${LABEL_KEY_MAX} ` +
    'characters (spaces, colons and non-ASCII included; no control characters), a value up to 256 ' +
    'characters. Labels are not scrubbed: never put PHI in them.',
  examples: [{ tenant_dept: 'rcm', 'Claim batch': '2026-05 east' }],
});

/**
 * Request bodies a newcomer can send as they are (the API reference pre-fills "Try it out" with
 * them; test/contract creates a session from each). Named, with a one-line summary.
 */
export const CREATE_SESSION_EXAMPLES = {
  minimal: { summary: 'Minimal: every default', value: {} },
  viewport_and_timeout: {
    summary: 'A 1280x800 viewport, a 10-minute lifetime, 60 s to reconnect',
    value: { viewport: { width: 1280, height: 800 }, timeout_seconds: 600, keep_alive_seconds: 60 },
  },
  proxy: {
    summary: 'Through an HTTP proxy that asks for credentials',
    value: {
      proxy: { url: 'http://proxy.example.com:3128', username: 'scraper', password: 'proxy-password' },
    },
  },
  labels: {
    summary: 'Labelled, to find it later: GET /v1/sessions?label=team:checkout',
    value: { labels: { team: 'checkout', 'Claim batch': '2026-05 east' } },
  },
} satisfies Record<string, { summary: string; value: object }>;

export const CreateSessionBody = Type.Object(
  {
    region: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        default: SESSION_DEFAULTS.region,
        description: `Where the browser runs: the pool \`<region>-<runtime_kind>\` must exist. Default \`${SESSION_DEFAULTS.region}\`.`,
        examples: [SESSION_DEFAULTS.region],
      }),
    ),
    runtime_kind: Type.Optional(
      Type.Enum(RUNTIME_KINDS, {
        default: SESSION_DEFAULTS.runtime_kind,
        description: `The browser: \`chromium\` (default) or \`rda\`.`,
        examples: [SESSION_DEFAULTS.runtime_kind],
      }),
    ),
    timeout_seconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 86400,
        default: SESSION_DEFAULTS.timeout_seconds,
        description: `The session's whole lifetime, 60 to 86400 s: at \`expires_at\` it ends EXPIRED, connected or not. Default ${SESSION_DEFAULTS.timeout_seconds} (30 min); POST /v1/sessions/{id}:keepalive extends it.`,
        examples: [600],
      }),
    ),
    keep_alive_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 86400,
        default: SESSION_DEFAULTS.keep_alive_seconds,
        description: `How long the session waits for a CDP client to reconnect after the last one disconnects, 0 to 86400 s. Default ${SESSION_DEFAULTS.keep_alive_seconds}: released (COMPLETED, \`cdp_disconnect\`) as soon as the last client disconnects.`,
        examples: [60],
      }),
    ),
    viewport: Type.Optional(Viewport),
    user_agent: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: "The browser's User-Agent header and navigator.userAgent. Default: Chromium's own.",
        examples: [
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
        ],
      }),
    ),
    proxy: Type.Optional(ProxySettings),
    profile_id: Type.Optional(
      Type.String({
        pattern: ULID_PATTERN,
        description:
          'Start from this profile (cookies and localStorage saved earlier); needs `profiles:read`. Default: none.',
        examples: ['01JC1AMQX4N3PWV9MR2BCKDH7F'],
      }),
    ),
    profile_version: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2_147_483_647,
        description:
          "Pins a version of `profile_id` (1 or more). Default: the profile's latest version at create time.",
        examples: [3],
      }),
    ),
    storage_state: Type.Optional(StorageState),
    labels: Type.Optional(Labels),
    recording: Type.Optional(
      Type.Object(
        {
          enabled: Type.Boolean({ description: 'Record the screen (WebM), fetched later from the session.' }),
        },
        { additionalProperties: false, description: 'Screen recording. Default: off.' },
      ),
    ),
  },
  {
    ...named('CreateSessionBody'),
    additionalProperties: false,
    description: 'Every field is optional: `{}` asks for a session with the defaults.',
    examples: Object.values(CREATE_SESSION_EXAMPLES).map((example) => example.value),
  },
);
export type CreateSessionBody = Static<typeof CreateSessionBody>;

export const UpdateSessionBody = Type.Object(
  {
    status: Type.Literal('REQUEST_RELEASE', {
      description: 'The only change a client can ask for: release the session (COMPLETED, `client_release`).',
    }),
  },
  { ...named('UpdateSessionBody'), additionalProperties: false },
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
    ...named('RestoredState'),
    description:
      'What was restored from `storage_state` or the pinned profile version before the session turned ' +
      'RUNNING (counts only); null when nothing was restored (yet).',
  },
);
export type RestoredState = Static<typeof RestoredState>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const SessionResource = Type.Object(
  {
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
  },
  { ...named('Session') },
);
export type SessionResource = Static<typeof SessionResource>;
