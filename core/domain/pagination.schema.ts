/** The one shape of every list endpoint: `limit` + opaque `cursor` in, `{items, next_cursor, has_more}` out. */
import { Type, type TSchema } from 'typebox';
import { named, SCHEMA_NAME } from './schema-name.ts';

export const DEFAULT_PAGE_SIZE = 20;

/** Spread into a list route's querystring object next to its own filters. */
export const PAGE_QUERY_FIELDS = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_PAGE_SIZE, description: 'Page size, 1-100.' }),
  ),
  cursor: Type.Optional(
    Type.String({ maxLength: 512, description: 'Opaque; from next_cursor of the previous page.' }),
  ),
};

/** A list route's querystring without filters. */
export const PageQuery = Type.Object(PAGE_QUERY_FIELDS, { additionalProperties: false });

/** A page of `item`; a page of a named schema (`Session`) is named too (`SessionList`). */
export function pageOf<T extends TSchema>(item: T) {
  const itemName = (item as Record<string, unknown>)[SCHEMA_NAME];
  return Type.Object(
    {
      items: Type.Array(item),
      next_cursor: Type.Union([Type.String(), Type.Null()]),
      has_more: Type.Boolean(),
    },
    typeof itemName === 'string' ? named(`${itemName}List`) : {},
  );
}
