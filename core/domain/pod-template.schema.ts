/**
 * A pool's pod template (operator API, stored on the pool): how its browser pods are shaped on the
 * kubernetes driver. Every field is optional; an absent one keeps the driver's default
 * (VENTUS_K8S_*). The local and sim drivers ignore it.
 */
import { Type, type Static } from 'typebox';
import { named } from './schema-name.ts';

const K8S_QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$';
const LABEL_KEY = '^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

const Quantities = Type.Object(
  {
    cpu: Type.Optional(
      Type.String({
        pattern: K8S_QUANTITY,
        maxLength: 32,
        description: 'CPU, a Kubernetes quantity.',
        examples: ['500m'],
      }),
    ),
    memory: Type.Optional(
      Type.String({
        pattern: K8S_QUANTITY,
        maxLength: 32,
        description: 'Memory, a Kubernetes quantity.',
        examples: ['1Gi'],
      }),
    ),
  },
  { additionalProperties: false, description: 'CPU and memory; absent: the driver default.' },
);

export const PodTemplateSettings = Type.Object(
  {
    image: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, pattern: '^[^\\s]+$', description: 'Runtime image.' }),
    ),
    resources: Type.Optional(
      Type.Object(
        { requests: Type.Optional(Quantities), limits: Type.Optional(Quantities) },
        { additionalProperties: false, description: "The browser container's requests and limits." },
      ),
    ),
    node_selector: Type.Optional(
      Type.Record(Type.String({ pattern: LABEL_KEY }), Type.String({ maxLength: 63 }), {
        maxProperties: 32,
        description: 'Node labels the pods must land on, at most 32.',
        examples: [{ 'ventus.dev/browsers': 'true' }],
      }),
    ),
    tolerations: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.Optional(Type.String({ maxLength: 316, description: 'The taint key tolerated.' })),
            operator: Type.Optional(Type.Enum(['Exists', 'Equal'], { description: 'Default `Equal`.' })),
            value: Type.Optional(
              Type.String({ maxLength: 63, description: 'The taint value (with `Equal`).' }),
            ),
            effect: Type.Optional(
              Type.Enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], {
                description: 'The taint effect tolerated; absent: all.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 32, description: 'Taints the pods tolerate, at most 32 (Kubernetes tolerations).' },
      ),
    ),
    runtime_class: Type.Optional(
      Type.String({ pattern: '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$', description: 'e.g. `gvisor`.' }),
    ),
  },
  {
    ...named('PodTemplate'),
    additionalProperties: false,
    description:
      'How the pool’s browser pods are shaped on the kubernetes driver; absent fields keep the ' +
      'driver’s defaults (VENTUS_K8S_*). Ignored by the local and sim drivers.',
  },
);
export type PodTemplateSettings = Static<typeof PodTemplateSettings>;
