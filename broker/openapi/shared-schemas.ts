/**
 * Shared schemas: every schema named with `named()` (core/domain/schema-name.ts) is defined once in
 * `components.schemas` and referenced (`$ref`) wherever a route uses it, so the problem document is
 * written once, not once per error response, and generated clients get one type per resource.
 *
 * Why a pass over the finished document rather than Fastify's `addSchema` + `$ref: 'Session#'`:
 * the route schemas stay the TypeBox values the handlers are typed from and Ajv validates with,
 * untouched; only what /openapi.json publishes changes.
 */
import { SCHEMA_NAME } from '../../core/domain/schema-name.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Keywords whose value is data (an example, a default), never a schema to look into. */
const DATA_KEYWORDS = new Set(['examples', 'example', 'default', 'enum', 'const']);

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Replaces each named schema in `document` by a reference to `components.schemas.<name>`. A use
 * that only gives its own description keeps it beside the reference; two different schemas under
 * one name are a programming error, reported when the document is built.
 */
export function liftNamedSchemas<D extends object>(document: D): D {
  const shared = new Map<string, { schema: JsonObject; text: string }>();

  const lift = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(lift);
    if (!isObject(node)) return node;
    const { [SCHEMA_NAME]: name, ...rest } = node;
    const schema = Object.fromEntries(
      Object.entries(rest).map(([key, value]) => [key, DATA_KEYWORDS.has(key) ? value : lift(value)]),
    );
    if (typeof name !== 'string') return schema;
    const { description, ...shape } = schema;
    const text = JSON.stringify(shape);
    const first = shared.get(name);
    if (first && first.text !== text) throw new Error(`Two different schemas are named ${name}`);
    if (!first) shared.set(name, { schema, text });
    const reference: JsonObject = { $ref: `#/components/schemas/${name}` };
    if (first && description !== undefined && description !== first.schema.description) {
      reference.description = description;
    }
    return reference;
  };

  const lifted = lift(document as unknown as JsonObject) as JsonObject;
  const components = isObject(lifted.components) ? lifted.components : {};
  const existing = isObject(components.schemas) ? components.schemas : {};
  const named = Object.fromEntries(
    [...shared].sort(([a], [b]) => a.localeCompare(b)).map(([n, s]) => [n, s.schema]),
  );
  return { ...lifted, components: { ...components, schemas: { ...existing, ...named } } } as unknown as D;
}
