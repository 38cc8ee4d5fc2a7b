/** The problem document shape (RFC 7807), for validation and the OpenAPI document. */
import { Type } from 'typebox';
import { named } from './schema-name.ts';

export const Problem = Type.Object(
  {
    type: Type.String({
      format: 'uri',
      examples: ['https://api.sessions.ventus.ai/errors/insufficient-capacity'],
    }),
    title: Type.String({ examples: ['Insufficient capacity'] }),
    status: Type.Integer({ minimum: 400, maximum: 599, examples: [503] }),
    detail: Type.Optional(
      Type.String({
        examples: [
          'No agents in region us-east1 had spare capacity at 2026-05-18T00:14:22Z. Retry after the pool drains; us-east1 is the only region available today.',
        ],
      }),
    ),
    instance: Type.Optional(Type.String({ examples: ['/v1/sessions'] })),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String(),
          message: Type.String(),
          unknown_field: Type.Optional(Type.String()),
        }),
      ),
    ),
  },
  { ...named('Problem'), additionalProperties: true, description: 'An RFC 7807 problem document' },
);
