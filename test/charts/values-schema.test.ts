/**
 * charts/ventus/values.schema.json (what `helm install/upgrade/lint/template` validate values
 * against): values.yaml passes it, every value in values.yaml has a schema, and broken values files
 * are rejected with a message naming the bad value.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const CHART = fileURLToPath(new URL('../../charts/ventus', import.meta.url));
const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as Schema;
const valuesText = readFileSync(path.join(CHART, 'values.yaml'), 'utf8');

type Tree = { [key: string]: unknown };
interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  definitions?: Record<string, Schema>;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }));
const validate = ajv.compile(schema);

/** A fresh copy of values.yaml, changed by `edit`. */
function valuesWith(edit: (v: Tree) => void = () => {}): Tree {
  const values = parse(valuesText) as Tree;
  edit(values);
  return values;
}

function errors(values: unknown): string[] {
  if (validate(values)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath} ${e.message ?? ''}`.trim());
}

function resolve(node: Schema): Schema {
  if (!node.$ref) return node;
  const name = node.$ref.replace('#/definitions/', '');
  return schema.definitions![name]!;
}

/** The schema a dotted values path falls under, or undefined when the schema does not cover it. */
function schemaAt(dotted: string): Schema | undefined {
  let node: Schema | undefined = schema;
  for (const key of dotted.split('.')) {
    node = resolve(node);
    const next: Schema | boolean | undefined = node.properties?.[key] ?? node.additionalProperties;
    if (typeof next !== 'object') return undefined;
    node = next;
  }
  return resolve(node);
}

function leaves(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) => {
    const here = prefix ? `${prefix}.${key}` : key;
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length
      ? leaves(value as Tree, here)
      : [here];
  });
}

describe('charts/ventus/values.schema.json', () => {
  it('is a draft-07 schema that values.yaml satisfies', () => {
    expect(schema).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' });
    expect(errors(valuesWith())).toEqual([]);
  });

  it('describes every value in values.yaml, with a type', () => {
    const values = valuesWith();
    const uncovered = leaves(values).filter((leaf) => {
      const node = schemaAt(leaf);
      return !node || (node.type === undefined && !('oneOf' in node));
    });
    expect(uncovered).toEqual([]);
    // Every top-level key is required, so a values file that drops one (a typo'd copy) fails.
    expect((schema as { required: string[] }).required.sort()).toEqual(Object.keys(values).sort());
  });

  it.each<[string, (v: Tree) => void, RegExp]>([
    ['replicas: "two"', (v) => ((v.broker as Tree).replicas = 'two'), /^\/broker\/replicas must be integer$/],
    ['negative replicas', (v) => ((v.workers as Tree).replicas = -1), /^\/workers\/replicas must be >= 0$/],
    ['an unknown driver key', (v) => (v.driver = 'docker'), /^must NOT have additional properties$/],
    [
      'another driver through extraEnv',
      (v) => ((v.config as Tree).extraEnv = { VENTUS_DRIVER: 'local' }),
      /^\/config\/extraEnv property name must be valid$/,
    ],
    [
      'an unknown log level',
      (v) => ((v.config as Tree).logLevel = 'verbose'),
      /^\/config\/logLevel must be equal to one of the allowed values$/,
    ],
    [
      'headless: "yes"',
      (v) => ((v.browser as Tree).headless = 'yes'),
      /^\/browser\/headless must be boolean$/,
    ],
    [
      'a malformed CPU quantity',
      (v) => (((v.browser as Tree).resources as Tree).cpu = 'one core'),
      /^\/browser\/resources\/cpu must match pattern/,
    ],
    [
      'a reconcile interval below the minimum',
      (v) => ((v.config as Tree).reconcileIntervalMs = 10),
      /^\/config\/reconcileIntervalMs must be >= 50$/,
    ],
    ['a numeric image tag', (v) => ((v.image as Tree).tag = 1.2), /^\/image\/tag must be string$/],
    [
      'a short JWT secret',
      (v) => ((v.secrets as Tree).jwtSecret = 'short'),
      /^\/secrets\/jwtSecret must match pattern/,
    ],
    ['a missing section', (v) => delete v.pools, /^must have required property 'pools'$/],
    [
      'a typo inside a section',
      (v) => ((v.serviceMonitor as Tree).intervall = '15s'),
      /^\/serviceMonitor must NOT have additional properties$/,
    ],
    [
      'a bad scrape interval',
      (v) => ((v.serviceMonitor as Tree).interval = '30'),
      /^\/serviceMonitor\/interval must match pattern/,
    ],
    [
      'the release namespace for browsers (empty)',
      (v) => ((v.browser as Tree).namespace = ''),
      /^\/browser\/namespace must NOT have fewer than 1 characters$/,
    ],
    [
      'a short pod-agent key',
      (v) => ((v.secrets as Tree).podAgentKey = 'short'),
      /^\/secrets\/podAgentKey must match pattern/,
    ],
    [
      'an egress allow entry that is not host:port',
      (v) => (((v.browser as Tree).egress as Tree).allow = ['10.0.0.0/8']),
      /^\/browser\/egress\/allow\/0 must match pattern/,
    ],
    [
      'a denied range that is not a CIDR',
      (v) => (((v.networkPolicy as Tree).egress as Tree).deniedCidrs = ['169.254.169.254']),
      /^\/networkPolicy\/egress\/deniedCidrs\/0 must match pattern/,
    ],
    [
      'a typo in the NetworkPolicy settings',
      (v) => ((v.networkPolicy as Tree).enable = false),
      /^\/networkPolicy must NOT have additional properties$/,
    ],
    [
      'an unknown service type',
      (v) => ((v.service as Tree).type = 'Headless'),
      /^\/service\/type must be equal to one of the allowed values$/,
    ],
  ])('rejects %s', (_name, edit, message) => {
    const found = errors(valuesWith(edit));
    expect(found.length, JSON.stringify(found)).toBeGreaterThan(0);
    expect(
      found.some((e) => message.test(e)),
      JSON.stringify(found),
    ).toBe(true);
  });

  it('accepts the documented variations: an existing Secret, a ServiceMonitor, PDB percentages', () => {
    const values = valuesWith((v) => {
      (v.secrets as Tree).existingSecret = 'ventus-secrets';
      v.serviceMonitor = { enabled: true, interval: '15s', labels: { release: 'prometheus' } };
      ((v.proxy as Tree).podDisruptionBudget as Tree).minAvailable = '50%';
      (v.browser as Tree).namespace = 'browsers-prod';
      (v.browser as Tree).egress = { allow: ['proxy.internal:3128', '[fd00::1]:8080'], allowPrivate: true };
      ((v.networkPolicy as Tree).egress as Tree).extraRules = [
        { to: [{ ipBlock: { cidr: '10.20.0.5/32' } }], ports: [{ protocol: 'TCP', port: 3128 }] },
      ];
      ((v.networkPolicy as Tree).egress as Tree).clusterCidrs = ['10.96.0.0/12', '2001:db8:42::/56'];
      ((v.browser as Tree).resources as Tree).cpu = '';
      (v.config as Tree).extraEnv = { NODE_OPTIONS: '--max-old-space-size=768', VENTUS_OPS_HOST: '0.0.0.0' };
    });
    expect(errors(values)).toEqual([]);
  });
});
