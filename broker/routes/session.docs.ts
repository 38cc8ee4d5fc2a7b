/** Request/response schemas of the session routes that are not the session shapes themselves. */
import { Type } from 'typebox';
import { SESSION_STATUSES } from '../../core/domain/session-states.ts';
import { PAGE_QUERY_FIELDS, pageOf } from '../../core/domain/pagination.schema.ts';
import { LABEL_FILTER_PATTERN } from '../../core/domain/label-filter.ts';
import { requiredHeader } from '../openapi/route-schema.ts';

export const SessionIdParams = Type.Object({
  id: Type.String({ description: 'Session id (a ULID)', examples: ['01JC1AMQX4N3PWV9MR2BCKDH7E'] }),
});

export const CreateSessionHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    requiredHeader(
      Type.String({
        description:
          'Dedupes creates per workspace for 24 h: send a new one (e.g. a UUID) per session, and the same one when ' +
          'retrying that create; a replay returns the original session with 200. 1-255 printable ASCII characters.',
        examples: ['4e5f8b7a-1c2d-3a4b-5c6d-7e8f9a0b1c2d'],
      }),
    ),
  ),
  prefer: Type.Optional(
    Type.String({
      description:
        '`wait=N` (RFC 7240): answer once the session is RUNNING or has ended, at most N seconds (held to ' +
        '60), instead of at once; the response then carries `Preference-Applied`. Create and wait in one ' +
        'request, with the same status codes; other preferences are ignored.',
      examples: ['wait=30'],
    }),
  ),
});

export const ReasonHeaders = Type.Object({
  'x-reason': Type.Optional(
    requiredHeader(
      Type.String({
        description: 'Why the operator stops the session (at least 8 characters); audited.',
        examples: ['runaway scraping job, ticket OPS-123'],
      }),
    ),
  ),
});

/** The longest a `GET /v1/sessions/{id}?wait_seconds=` holds its answer. */
export const MAX_WAIT_SECONDS = 60;

export const GetSessionQuery = Type.Object(
  {
    wait_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WAIT_SECONDS,
        default: 0,
        examples: [30],
        description:
          `0 to ${MAX_WAIT_SECONDS}. Default 0 (answer at once). While the session is QUEUED or ` +
          'PROVISIONING, hold the answer until it is RUNNING or has ended, at most this many seconds.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ListSessionsQuery = Type.Object(
  {
    ...PAGE_QUERY_FIELDS,
    order: Type.Optional(
      Type.Enum(['asc', 'desc'], {
        description:
          '`asc` (default): oldest first; `desc`: newest first. Either way by id (a ULID), so cursors stay ' +
          'stable across inserts; keep the same order while following next_cursor.',
      }),
    ),
    status: Type.Optional(
      Type.String({
        pattern: `^(${SESSION_STATUSES.join('|')})(,(${SESSION_STATUSES.join('|')}))*$`,
        description: 'One status or a comma-separated list, e.g. RUNNING,QUEUED.',
      }),
    ),
    label: Type.Optional(
      Type.Union(
        [
          Type.String({ pattern: LABEL_FILTER_PATTERN, maxLength: 1024 }),
          Type.Array(Type.String({ pattern: LABEL_FILTER_PATTERN, maxLength: 1024 }), { maxItems: 16 }),
        ],
        {
          description:
            '`<key>:<value>`; repeat to require several labels. Keys are free-form: write a colon in a key ' +
            'as `\\:` and a backslash as `\\\\` (the first unescaped colon ends the key).',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const KeepAliveBody = Type.Object(
  {
    extend_seconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 86400,
        default: 600,
        description: 'Seconds to move `expires_at` forward, 1 to 86400. Default 600 (10 min).',
        examples: [600],
      }),
    ),
  },
  { additionalProperties: false },
);

export const Transition = Type.Object({
  from: Type.Union([Type.Enum(SESSION_STATUSES), Type.Null()]),
  to: Type.Enum(SESSION_STATUSES),
  reason: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: 'date-time' }),
});

export const TransitionList = pageOf(Transition);
