/** Pool request and resource shapes (operator API). */
import { Type, type Static } from 'typebox';
import { PodTemplateSettings } from './pod-template.schema.ts';
import { pageOf } from './pagination.schema.ts';
import { RUNTIME_KINDS } from './session.schema.ts';
import { named } from './schema-name.ts';

export const POOL_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

export const PoolNameParams = Type.Object({
  name: Type.String({ pattern: POOL_NAME_PATTERN, description: 'Pool name, `<region>-<runtime_kind>`.' }),
});
export type PoolNameParams = Static<typeof PoolNameParams>;

const REGION = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,40}$',
  description: 'e.g. `us-east1`; the pool is named `<region>-<runtime_kind>`.',
});

export const CreatePoolBody = Type.Object(
  {
    region: REGION,
    runtime_kind: Type.Enum(RUNTIME_KINDS, {
      description:
        '`chromium`, or `rda` (Windows RDA runtime: kubernetes driver only, needs `pod_template.image`).',
    }),
    min_ready: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      description: 'Warm pods to keep ready, 0 to 10,000.',
      examples: [2],
    }),
    max_total: Type.Integer({
      minimum: 0,
      maximum: 100_000,
      description: 'Most pods (warm or held) and admitted sessions, 0 to 100,000.',
      examples: [20],
    }),
    max_starting: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()], {
        description: 'Most pods starting at once; `null` (default) means 4.',
      }),
    ),
    pod_template: Type.Optional(PodTemplateSettings),
  },
  { ...named('CreatePoolBody'), additionalProperties: false },
);
export type CreatePoolBody = Static<typeof CreatePoolBody>;

export const PatchPoolBody = Type.Object(
  {
    min_ready: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        description: 'Warm pods to keep ready, 0 to 10,000.',
        examples: [2],
      }),
    ),
    max_total: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100_000,
        description:
          'Most pods (warm or held) and admitted sessions, 0 to 100,000. Lowering it never ends a running session: ' +
          'warm pods are retired and new sessions wait for room.',
      }),
    ),
    max_starting: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()], {
        description: 'Most pods starting at once; `null` restores the default (4).',
      }),
    ),
    pod_template: Type.Optional(PodTemplateSettings),
  },
  { ...named('PatchPoolBody'), additionalProperties: false, minProperties: 1 },
);
export type PatchPoolBody = Static<typeof PatchPoolBody>;

const Count = Type.Integer({ minimum: 0 });

export const PoolResource = Type.Object(
  {
    name: Type.String(),
    region: Type.String(),
    runtime_kind: Type.String(),
    min_ready: Count,
    max_total: Count,
    max_starting: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    pod_template: PodTemplateSettings,
    updated_at: Type.String({ format: 'date-time' }),
    retired_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When an operator retired the pool (no capacity, no admissions); null while live.',
    }),
    status: Type.Object(
      {
        ready: Type.Integer({ minimum: 0, description: 'Warm pods ready to claim.' }),
        warming: Type.Integer({ minimum: 0, description: 'Warm pods starting.' }),
        admitted: Type.Integer({ minimum: 0, description: 'Sessions holding a slot (not ended).' }),
        queued: Type.Integer({ minimum: 0, description: 'Admitted sessions waiting for a pod.' }),
        held: Type.Integer({ minimum: 0, description: 'Sessions PROVISIONING or RUNNING on a pod.' }),
        warmup_ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
          description: 'Median of recent pod start durations; null before the first start.',
        }),
      },
      { description: 'Live figures, read when the request is served.' },
    ),
  },
  { ...named('Pool') },
);
export type PoolResource = Static<typeof PoolResource>;

export const PoolList = pageOf(PoolResource);
