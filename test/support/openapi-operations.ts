/** The operations of /openapi.json with the scopes each requires, for sweeps over every route. */
import type { Scope } from '../../core/domain/scopes.ts';

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  /** Any one of these scopes admits the caller. */
  scopes: Scope[];
  authenticated: boolean;
  hasBody: boolean;
}

export type OpenApiDoc = {
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        description?: string;
        security?: unknown[];
        requestBody?: unknown;
        'x-required-scope'?: string;
      }
    >
  >;
};

/** Every operation with the scopes it requires, read from the document alone. */
export function operationsOf(doc: OpenApiDoc): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => {
      const declared = op['x-required-scope'];
      const described = /Requires scope ((?:`[a-z:]+`(?: or )?)+)/.exec(op.description ?? '')?.[1];
      const scopes = declared
        ? [declared]
        : [...(described ?? '').matchAll(/`([a-z:]+)`/g)].map((m) => m[1]!);
      return {
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        scopes: scopes as Scope[],
        authenticated: (op.security ?? []).length > 0,
        hasBody: op.requestBody !== undefined,
      };
    }),
  );
}
