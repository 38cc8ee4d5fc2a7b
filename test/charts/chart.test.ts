/**
 * Static checks of charts/ventus (no Helm binary here, and no faithful renderer on npm): the chart
 * and values parse, every template exists and is balanced, every `.Values` path a template reads
 * is in values.yaml (and every value is read), RBAC is pods and leases in the browser namespace,
 * and probes, ports and the Ingress say what the processes and the README say.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { OPS_DEFAULT_PORTS } from '../../core/process/run-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = path.join(ROOT, 'charts', 'ventus');
const TEMPLATES = path.join(CHART, 'templates');

const read = (file: string): string => readFileSync(path.join(CHART, file), 'utf8');
const template = (name: string): string => read(path.join('templates', name));

type Tree = { [key: string]: unknown };
const values = parse(read('values.yaml')) as Tree;

const EXPECTED_TEMPLATES = [
  '_helpers.tpl',
  'NOTES.txt',
  'configmap.yaml',
  'secret.yaml',
  'serviceaccount.yaml',
  'rbac.yaml',
  'namespace.yaml',
  'broker-deployment.yaml',
  'proxy-deployment.yaml',
  'workers-deployment.yaml',
  'pool-controller-deployment.yaml',
  'services.yaml',
  'ingress.yaml',
  'pdb.yaml',
  'artifacts-pvc.yaml',
  'servicemonitor.yaml',
];

const templateFiles = readdirSync(TEMPLATES);
const allTemplates = templateFiles.map((f) => template(f)).join('\n');

/** `.Values.a.b.c` paths the templates read (`$.Values`, `.root.Values` included). */
function valuePaths(text: string): string[] {
  return [...text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) => m[1]!.slice(1));
}

function has(tree: unknown, dotted: string): boolean {
  let node = tree;
  for (const key of dotted.split('.')) {
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Tree)[key];
  }
  return true;
}

function leaves(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) => {
    const here = prefix ? `${prefix}.${key}` : key;
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length
      ? leaves(value as Tree, here)
      : [here];
  });
}

/** The YAML text of a template with every `{{ … }}` line dropped: what is left is literal YAML. */
function literalYaml(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.includes('{{'))
    .join('\n');
}

describe('charts/ventus', () => {
  it('has a Chart.yaml Helm 3 accepts', () => {
    const chart = parse(read('Chart.yaml')) as Tree;
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'ventus', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(typeof chart.appVersion).toBe('string');
  });

  it('has every template, each with balanced actions and blocks', () => {
    for (const name of EXPECTED_TEMPLATES) expect(existsSync(path.join(TEMPLATES, name)), name).toBe(true);
    for (const name of templateFiles) {
      const text = template(name);
      expect(text.split('{{').length, `{{ vs }} in ${name}`).toBe(text.split('}}').length);
      const opens = text.match(/{{-?\s*(if|range|with|define)\b/g)?.length ?? 0;
      const ends = text.match(/{{-?\s*end\s*-?}}/g)?.length ?? 0;
      expect(ends, `blocks opened and ended in ${name}`).toBe(opens);
    }
  });

  it('includes only templates that _helpers.tpl defines', () => {
    const defined = new Set([...template('_helpers.tpl').matchAll(/define "([^"]+)"/g)].map((m) => m[1]));
    const included = [...allTemplates.matchAll(/include "([^"]+)"/g)].map((m) => m[1]);
    expect(included.length).toBeGreaterThan(0);
    expect(included.filter((name) => !defined.has(name))).toEqual([]);
  });

  it('reads only values that values.yaml defines', () => {
    const paths = [...new Set(valuePaths(allTemplates))];
    expect(paths.length).toBeGreaterThan(30);
    expect(paths.filter((p) => !has(values, p))).toEqual([]);
  });

  it('reads every value values.yaml defines', () => {
    const used = new Set(valuePaths(allTemplates));
    // pdb.yaml reads each component's podDisruptionBudget through `index $.Values $key`.
    const throughIndex = /^(broker|proxy|workers|poolController)\.(podDisruptionBudget\.|replicas$)/;
    const unread = leaves(values).filter((leaf) => {
      const parts = leaf.split('.');
      const read = parts.some((_, i) => used.has(parts.slice(0, i + 1).join('.')));
      return !read && !throughIndex.test(leaf);
    });
    expect(unread).toEqual([]);
  });

  it('limits RBAC to pods and leases, in a namespaced Role in the browser namespace', () => {
    expect(allTemplates).not.toMatch(/kind:\s*Cluster(Role|RoleBinding)/);
    const rbac = template('rbac.yaml');
    const [role] = parseAllDocuments(literalYaml(rbac)).map((d) => d.toJSON() as Tree);
    expect(role?.kind).toBe('Role');
    expect(rbac).toMatch(/namespace: {{ include "ventus.browserNamespace" \. }}/);
    const rules = role?.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources).not.toContain('*');
      for (const resource of rule.resources) {
        expect(['pods', 'leases']).toContain(resource);
        expect(rule.apiGroups).toEqual(resource === 'pods' ? [''] : ['coordination.k8s.io']);
      }
    }
    const pods = rules.find((r) => r.resources.includes('pods'));
    expect(pods?.verbs.sort()).toEqual(['create', 'delete', 'get', 'list', 'patch', 'watch']);
  });

  it('probes /healthz (liveness) and /readyz (readiness) on each process port', () => {
    const ports: Record<string, { file: string; port: number | string }> = {
      broker: { file: 'broker-deployment.yaml', port: 8080 },
      proxy: { file: 'proxy-deployment.yaml', port: 8080 },
      workers: { file: 'workers-deployment.yaml', port: '.Values.workers.metricsPort' },
      'pool-controller': {
        file: 'pool-controller-deployment.yaml',
        port: '.Values.poolController.metricsPort',
      },
    };
    for (const [name, { file, port }] of Object.entries(ports)) {
      const text = template(file);
      expect(text, file).toContain(`command: ["node", "--import", "tsx", "${name}/main.ts"]`);
      expect(text, file).toMatch(/livenessProbe:\s+httpGet: { path: \/healthz, port: \w+ }/);
      expect(text, file).toMatch(/readinessProbe:\s+httpGet: { path: \/readyz, port: \w+ }/);
      expect(text, file).toContain(`containerPort: ${typeof port === 'number' ? port : `{{ ${port} }}`}`);
      expect(text, file).toContain('toYaml .Values.securityContext');
    }
    expect((values.workers as Tree).metricsPort).toBe(OPS_DEFAULT_PORTS.workers);
    expect((values.poolController as Tree).metricsPort).toBe(OPS_DEFAULT_PORTS['pool-controller']);
    expect(values.podSecurityContext).toMatchObject({ runAsNonRoot: true });
    expect(values.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
  });

  it('routes /v1/sessions/*/cdp and /v/ to the proxy with WebSocket timeouts, the rest to the broker', () => {
    const ingress = template('ingress.yaml');
    const [cdp, api] = ingress.split(/^---$/m);
    expect(cdp).toMatch(/- path: \/v1\/sessions\/\[\^\/\]\+\/cdp[\s\S]*name: {{ \$fullname }}-proxy/);
    // The live view (page, scripts, VNC WebSocket) is the proxy's too.
    expect(cdp).toMatch(/- path: \/v\/\n[\s\S]*name: {{ \$fullname }}-proxy/);
    expect(cdp).toContain('proxy-read-timeout: {{ .Values.ingress.websocketTimeoutSeconds | quote }}');
    expect(cdp).toContain('proxy-send-timeout: {{ .Values.ingress.websocketTimeoutSeconds | quote }}');
    expect((values.ingress as Tree).websocketTimeoutSeconds).toBe(3600);
    expect(cdp).not.toContain('-broker');
    expect(api).toMatch(/- path: \/recordings\/[\s\S]*- path: \/\n/);
    expect(api).not.toContain('-proxy');
  });

  it('scrapes the four Services through a ServiceMonitor only when serviceMonitor.enabled', () => {
    const monitor = template('servicemonitor.yaml');
    expect(monitor.trimStart().split('\n')[0]).toBe('{{- if .Values.serviceMonitor.enabled }}');
    expect(monitor.trimEnd().split('\n').at(-1)).toBe('{{- end }}');
    expect((values.serviceMonitor as Tree).enabled).toBe(false);
    expect(monitor).toContain('apiVersion: monitoring.coreos.com/v1');
    expect(monitor).toContain('kind: ServiceMonitor');
    expect(monitor).toContain('values: [broker, proxy, workers, pool-controller]');
    expect(monitor).toContain('{{- range $port := list "http" "metrics" }}');
    expect(monitor).toContain('path: /metrics');
    // The port names it scrapes are the ones the Services give: http (broker, proxy), metrics (the rest).
    const services = template('services.yaml');
    expect(services.match(/- name: http\n/g)?.length).toBe(1); // inside the broker/proxy range
    expect(services.match(/- name: metrics\n/g)?.length).toBe(2);
    for (const component of ['broker', 'proxy', 'workers', 'pool-controller']) {
      expect(services).toMatch(new RegExp(`(list "broker" "proxy"|component: ${component})`));
    }
  });

  it('sets only environment variables the processes read', () => {
    const config = readFileSync(path.join(ROOT, 'core', 'config', 'config.ts'), 'utf8');
    const names = [...template('configmap.yaml').matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
    expect(names).toContain('VENTUS_DRIVER');
    for (const name of names) expect(config, name).toMatch(new RegExp(`\\b${name}\\b`));
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'VENTUS_JWT_SECRET', 'VENTUS_PROFILE_KEYS']) {
      expect(template('secret.yaml')).toContain(`${key}:`);
      expect(config).toContain(key);
    }
  });
});
