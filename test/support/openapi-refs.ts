/**
 * /openapi.json defines shared schemas once (`components.schemas`) and references them with `$ref`.
 * Tests that read a schema where a route uses it (or compile it with Ajv on its own) read the
 * document with every such reference replaced by the schema it names.
 */
const PREFIX = '#/components/schemas/';

type Node = unknown;

export function inlineSchemaRefs<T>(doc: T): T {
  const schemas = (doc as { components?: { schemas?: Record<string, Node> } }).components?.schemas ?? {};
  const inline = (node: Node): Node => {
    if (Array.isArray(node)) return node.map(inline);
    if (typeof node !== 'object' || node === null) return node;
    const { $ref, ...rest } = node as Record<string, Node>;
    const own = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, inline(v)]));
    if (typeof $ref !== 'string' || !$ref.startsWith(PREFIX))
      return $ref === undefined ? own : { $ref, ...own };
    const target = schemas[$ref.slice(PREFIX.length)];
    if (target === undefined) throw new Error(`/openapi.json: ${$ref} is not defined`);
    // A description beside the reference is the use site's own: it wins over the shared one.
    return { ...(inline(target) as object), ...own };
  };
  return inline(doc) as T;
}
