/**
 * A pool's pod template (operator API, stored on the pool): how its browser pods are shaped on the
 * kubernetes driver. Every field is optional; an absent one keeps the driver's default
 * (VENTUS_K8S_*). The local and sim drivers ignore it.
 */
import { Type, type Static } from 'typebox';

const K8S_QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$';
const LABEL_KEY = '^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

const Quantities = Type.Object(
  {
    cpu: Type.Optional(Type.String({ pattern: K8S_QUANTITY, maxLength: 32 })),
    memory: Type.Optional(Type.String({ pattern: K8S_QUANTITY, maxLength: 32 })),
  },
  { additionalProperties: false },
);

export const PodTemplateSettings = Type.Object(
  {
    image: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, pattern: '^[^\\s]+$', description: 'Runtime image.' }),
    ),
    resources: Type.Optional(
      Type.Object(
        { requests: Type.Optional(Quantities), limits: Type.Optional(Quantities) },
        { additionalProperties: false },
      ),
    ),
    node_selector: Type.Optional(
      Type.Record(Type.String({ pattern: LABEL_KEY }), Type.String({ maxLength: 63 }), { maxProperties: 32 }),
    ),
    tolerations: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.Optional(Type.String({ maxLength: 316 })),
            operator: Type.Optional(Type.Enum(['Exists', 'Equal'])),
            value: Type.Optional(Type.String({ maxLength: 63 })),
            effect: Type.Optional(Type.Enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])),
          },
          { additionalProperties: false },
        ),
        { maxItems: 32 },
      ),
    ),
    runtime_class: Type.Optional(
      Type.String({ pattern: '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$', description: 'e.g. `gvisor`.' }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'How the pool’s browser pods are shaped on the kubernetes driver; absent fields keep the ' +
      'driver’s defaults (VENTUS_K8S_*). Ignored by the local and sim drivers.',
  },
);
export type PodTemplateSettings = Static<typeof PodTemplateSettings>;
