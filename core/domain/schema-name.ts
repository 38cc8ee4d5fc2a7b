/**
 * Names a schema for the API document: /openapi.json defines a named schema once, under
 * `components.schemas.<name>`, and references it wherever a route uses it (broker/openapi lifts it).
 * Validation ignores the keyword (Ajv runs with `strict: false`; OpenAPI allows `x-` extensions).
 */
export const SCHEMA_NAME = 'x-schema-name';

/** Spread into a TypeBox schema's options: `Type.Object({…}, { ...named('Session') })`. */
export function named(name: string): { [SCHEMA_NAME]: string } {
  return { [SCHEMA_NAME]: name };
}
