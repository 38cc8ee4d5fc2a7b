/** Request/response schemas of the session routes that are not the session shapes themselves. */
import { Type } from 'typebox';
import { SESSION_STATUSES } from '../../core/domain/session-states.ts';
import { PAGE_QUERY_FIELDS } from '../../core/domain/pagination.schema.ts';

export const SessionIdParams = Type.Object({
  id: Type.String({ description: 'Session id (a ULID)', examples: ['01JC1AMQX4N3PWV9MR2BCKDH7E'] }),
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        'Required. Dedupes creates per workspace for 24 h; a replay returns the original session with 200.',
      examples: ['4e5f8b7a-1c2d-3a4b-5c6d-7e8f9a0b1c2d'],
    }),
  ),
});

export const ReasonHeaders = Type.Object({
  'x-reason': Type.Optional(
    Type.String({
      description: 'Required: why the operator stops the session (at least 8 characters); audited.',
    }),
  ),
});

export const ListSessionsQuery = Type.Object(
  {
    ...PAGE_QUERY_FIELDS,
    status: Type.Optional(
      Type.String({
        pattern: `^(${SESSION_STATUSES.join('|')})(,(${SESSION_STATUSES.join('|')}))*$`,
        description: 'One status or a comma-separated list, e.g. RUNNING,QUEUED.',
      }),
    ),
    label: Type.Optional(
      Type.Union(
        [
          Type.String({ pattern: '^[^:]+:.*$' }),
          Type.Array(Type.String({ pattern: '^[^:]+:.*$' }), { maxItems: 16 }),
        ],
        {
          description: 'key:value; repeat to require several labels.',
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
        description: 'Seconds to move expires_at forward.',
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

export const TransitionList = Type.Object({ items: Type.Array(Transition) });
