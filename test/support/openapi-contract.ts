/**
 * Checks a live response against /openapi.json: the operation exists, the status is documented,
 * the content type is one the document names, the body matches its schema, and documented headers
 * are present and well-formed. The ApiClient runs it on every response of the integration suite.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { inlineSchemaRefs } from './openapi-refs.ts';

interface MediaObject {
  schema?: object;
}
interface ResponseObject {
  headers?: Record<string, { schema?: object }>;
  content?: Record<string, MediaObject>;
}
interface Operation {
  responses: Record<string, ResponseObject>;
}
type OpenApiDoc = { paths: Record<string, Record<string, Operation>> };

export class OpenApiContract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<object, ValidateFunction>();
  private readonly routes: { regex: RegExp; path: string; literal: number }[];

  private readonly doc: OpenApiDoc;

  constructor(doc: OpenApiDoc) {
    this.doc = inlineSchemaRefs(doc);
    addFormats.default(this.ajv);
    this.routes = Object.keys(this.doc.paths)
      .map((path) => ({
        path,
        regex: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/:]+')}$`),
        literal: path.replace(/\{\w+\}/g, '').length,
      }))
      .sort((a, b) => b.literal - a.literal);
  }

  static async load(baseUrl: string): Promise<OpenApiContract> {
    const res = await fetch(`${baseUrl}/openapi.json`);
    return new OpenApiContract((await res.json()) as OpenApiDoc);
  }

  private validator(schema: object): ValidateFunction {
    let fn = this.compiled.get(schema);
    if (!fn) {
      fn = this.ajv.compile(schema);
      this.compiled.set(schema, fn);
    }
    return fn;
  }

  /** Problems found; empty when the response conforms. */
  check(method: string, url: string, status: number, headers: Headers, body: unknown): string[] {
    const pathname = new URL(url).pathname;
    const route = this.routes.find((r) => r.regex.test(pathname));
    // Unknown paths answer 404 problem documents; nothing in the document describes them.
    if (!route)
      // Off the documented paths only refusals are expected (checked as problem documents by the caller).
      return status >= 400 && status < 500 ? [] : [`${method} ${pathname}: no such path in /openapi.json`];
    const op = this.doc.paths[route.path]![method.toLowerCase()];
    if (!op) return status >= 400 && status < 500 ? [] : [`${method} ${route.path}: no such operation`];
    const response = op.responses[String(status)];
    const where = `${method} ${route.path} -> ${status}`;
    if (!response) return [`${where}: status not documented`];
    const errors: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const value = headers.get(name);
      const required = name === 'X-Request-Id' || name === 'Retry-After';
      if (value === null) {
        if (required) errors.push(`${where}: header ${name} missing`);
        continue;
      }
      if (header.schema && !this.validator(header.schema)(value))
        errors.push(`${where}: header ${name}=${String(value)} invalid`);
    }
    if (!response.content) {
      if (body !== undefined && body !== '') errors.push(`${where}: documented without a body, got one`);
      return errors;
    }
    const type = (headers.get('content-type') ?? '').split(';')[0]!.trim();
    const media = response.content[type];
    if (!media)
      return [
        ...errors,
        `${where}: content-type ${type} not documented (${Object.keys(response.content).join(', ')})`,
      ];
    if (media.schema) {
      const validate = this.validator(media.schema);
      if (!validate(body))
        errors.push(`${where}: body does not match schema: ${this.ajv.errorsText(validate.errors)}`);
    }
    return errors;
  }
}
