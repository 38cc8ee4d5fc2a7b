/** API key request and resource shapes. The secret appears in one response only: the create. */
import { Type, type Static } from 'typebox';
import { SCOPES } from './scopes.ts';
import { PageQuery, pageOf } from './pagination.schema.ts';
import { named } from './schema-name.ts';

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'A label for people; not unique.' }),
    ),
    // `operator` is listed so that asking for it is a clear 403 rather than a schema error.
    scopes: Type.Array(Type.Enum(SCOPES), {
      minItems: 1,
      maxItems: SCOPES.length,
      uniqueItems: true,
      description:
        'Scopes of the new key; each must be held by the calling key. `operator` is granted only by the CLI.',
    }),
  },
  { ...named('CreateApiKeyBody'), additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

const Timestamp = Type.String({ format: 'date-time' });

export const ApiKeyResource = Type.Object(
  {
    id: Type.String({ description: 'The ULID in `vs_<id>.<secret>`.' }),
    name: Type.Union([Type.String(), Type.Null()]),
    scopes: Type.Array(Type.Enum(SCOPES)),
    created_at: Timestamp,
    revoked_at: Type.Union([Timestamp, Type.Null()], { description: 'Set once the key is revoked.' }),
  },
  { ...named('ApiKey') },
);
export type ApiKeyResource = Static<typeof ApiKeyResource>;

export const CreatedApiKey = Type.Object(
  {
    ...ApiKeyResource.properties,
    api_key: Type.String({
      description: 'The full key, `vs_<id>.<secret>`. Shown only in this response: store it now.',
    }),
  },
  { ...named('CreatedApiKey') },
);
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const ApiKeyList = pageOf(ApiKeyResource);

export const ApiKeyIdParams = Type.Object({
  id: Type.String({ description: 'API key id (a ULID)', examples: ['01JC1AMQX4N3PWV9MR2BCKDH7E'] }),
});

export const ListApiKeysQuery = PageQuery;
