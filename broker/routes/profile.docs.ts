/** Request schemas and response headers of the profile routes that are not the profile shapes themselves. */
import { Type } from 'typebox';
import { MAX_PROFILE_VERSION } from '../../core/domain/profile.schema.ts';
import { PageQuery } from '../../core/domain/pagination.schema.ts';
import type { ResponseHeader } from '../openapi/route-schema.ts';

export const ProfileIdParams = Type.Object({
  id: Type.String({ description: 'Profile id (a ULID)', examples: ['01JC1AMQX4N3PWV9MR2BCKDH7E'] }),
});

export const ProfileVersionParams = Type.Object({
  id: Type.String({ description: 'Profile id (a ULID)', examples: ['01JC1AMQX4N3PWV9MR2BCKDH7E'] }),
  n: Type.Integer({ minimum: 1, maximum: MAX_PROFILE_VERSION, description: 'Version number' }),
});

export const ListProfilesQuery = PageQuery;

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      description:
        'The ETag (latest_version) you last read, e.g. `"3"` (a bare 3 is accepted too). If the profile has ' +
        'moved on, the append is refused with 409. Without it (or with `*`) the version is appended after ' +
        'whatever is latest.',
      examples: ['"3"'],
    }),
  ),
});

export const ETAG: ResponseHeader = {
  description: "The profile's latest_version, quoted; send it back in If-Match to append the next version.",
  schema: Type.String({ pattern: '^"[0-9]+"$' }),
};
