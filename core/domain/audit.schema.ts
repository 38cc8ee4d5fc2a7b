/** The audit log as the API returns it: newest first, workspace-scoped, allowlisted `detail`. */
import { Type, type Static } from 'typebox';
import { PAGE_QUERY_FIELDS, pageOf } from './pagination.schema.ts';
import { named } from './schema-name.ts';

export const AUDIT_CLASSES = ['tenant', 'admin', 'system'] as const;

/** `<type>:<id>` (e.g. `session:01J…`) or a bare id. */
export const AUDIT_TARGET_PATTERN = '^(?:([a-z][a-z_]{0,31}):)?([^\\s:]{1,128})$';

export const AuditItem = Type.Object(
  {
    id: Type.String({ description: 'A ULID; the list is sorted by it.' }),
    at: Type.String({ format: 'date-time' }),
    class: Type.Enum(AUDIT_CLASSES, {
      description:
        '`tenant`: a workspace key acted on its own resources; `admin`: the operator surface; `system`: the service.',
    }),
    actor: Type.String({ description: 'The acting API key id, or the service component.' }),
    action: Type.String({ examples: ['session.create', 'key.revoke', 'member.update'] }),
    target_type: Type.String({ examples: ['session', 'api_key', 'member'] }),
    target_id: Type.String(),
    detail: Type.Record(
      Type.String(),
      Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
      {
        description: 'Allowlisted fields only: never secrets, request bodies, URLs or page content.',
      },
    ),
  },
  { ...named('AuditEvent') },
);
export type AuditItem = Static<typeof AuditItem>;

export const AuditList = pageOf(AuditItem);

export const ListAuditQuery = Type.Object(
  {
    ...PAGE_QUERY_FIELDS,
    target: Type.Optional(
      Type.String({
        pattern: AUDIT_TARGET_PATTERN,
        description: '`<type>:<id>` (e.g. `session:01JC1AMQX4N3PWV9MR2BCKDH7E`) or just an id.',
      }),
    ),
    action: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Exact action, e.g. `session.create`.' }),
    ),
    actor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'Exact actor, e.g. an API key id.' }),
    ),
  },
  { additionalProperties: false },
);

const TARGET_RE = new RegExp(AUDIT_TARGET_PATTERN);

/** Splits a `target` filter into its type (when given) and id; undefined when malformed. */
export function parseAuditTarget(target: string): { type?: string; id: string } | undefined {
  const match = TARGET_RE.exec(target);
  if (!match) return undefined;
  const [, type, id] = match;
  return type ? { type, id: id! } : { id: id! };
}
