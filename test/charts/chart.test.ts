/**
 * Static checks of charts/ventus (no Helm binary here, and no faithful renderer on npm): the chart
 * and values parse, every template exists and is balanced, every `.Values` path a template reads
 * is in values.yaml (and every value is read), RBAC is pods, their Secrets and leases in the browser
 * namespace, probes, ports and the Ingress say what the processes and the README say, and the
 * browser pods' boundary is there: a NetworkPolicy by default, a namespace of their own under Pod
 * Security `restricted`, the pod-agent key only in the control plane's Secret.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { OPS_DEFAULT_PORTS } from '../../core/process/run-process.ts';
import { DEFAULT_AGENT_PORT } from '../../core/runtime/kubernetes/browser-container.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../core/runtime/kubernetes/pod-manifest.ts';
import { MAX_WAIT_SECONDS } from '../../broker/routes/session.docs.ts';

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
  'networkpolicy.yaml',
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

  it('limits RBAC to pods, their Secrets and leases, in a namespaced Role in the browser namespace', () => {
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
        expect(['pods', 'secrets', 'leases']).toContain(resource);
        expect(rule.apiGroups).toEqual(resource === 'leases' ? ['coordination.k8s.io'] : ['']);
      }
    }
    const pods = rules.find((r) => r.resources.includes('pods'));
    expect(pods?.verbs.sort()).toEqual(['create', 'delete', 'get', 'list', 'patch', 'watch']);
    // Secrets: what the driver does with each pod's agent Secret; never read back (get, watch).
    const secrets = rules.find((r) => r.resources.includes('secrets'));
    expect(secrets?.resources).toEqual(['secrets']);
    expect(secrets?.verbs.sort()).toEqual(['create', 'delete', 'list', 'patch']);
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
      expect(text, file).toContain(`command: ["node", "--enable-source-maps", "dist/${name}.mjs"]`);
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

  it('runs the built programs (dist/, npm run build): no TypeScript source, no tsx', () => {
    const commands = templateFiles.flatMap((file) => [...template(file).matchAll(/command: (\[.*\])/g)]);
    expect(commands.map((m) => m[1])).toEqual(
      expect.arrayContaining([
        '["node", "--enable-source-maps", "dist/cli.mjs", "migrate"]',
        '["node", "--enable-source-maps", "dist/broker.mjs"]',
      ]),
    );
    for (const [command] of commands) expect(command).not.toMatch(/tsx|\.ts"/);
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
    expect(api).not.toContain('-proxy');
    // A waiting GET (?wait_seconds=60) is answered before ingress-nginx gives up on the broker.
    const apiReadTimeout = Number(/proxy-read-timeout: "(\d+)"/.exec(api!)?.[1]);
    expect(apiReadTimeout).toBeGreaterThan(MAX_WAIT_SECONDS + 5);
    // The broker's public paths, one by one: no catch-all, so /metrics, /healthz, /readyz stay internal.
    const routes = [...api!.matchAll(/\(list "([^"]+)" "(Prefix|Exact)"\)/g)].map((m) => [m[1], m[2]]);
    expect(routes).toEqual([
      ['/v1/', 'Prefix'],
      ['/recordings/', 'Prefix'],
      ['/openapi.json', 'Exact'],
      ['/docs', 'Prefix'],
      ['/dashboard', 'Prefix'],
      // The pages every problem document's `type` URL (PUBLIC_URL/errors/<type>) names.
      ['/errors', 'Prefix'],
    ]);
    expect(api).toContain('- path: {{ index $route 0 }}');
    const paths = [
      ...routes.map(([p]) => p!),
      ...[...ingress.matchAll(/- path: (\/\S*)/g)].map((m) => m[1]!.replace(/\[\^\/\]\+/, 'x')),
    ];
    for (const internal of ['/metrics', '/healthz', '/readyz']) {
      expect(
        paths.filter((p) => internal.startsWith(p) || p.startsWith(internal)),
        internal,
      ).toEqual([]);
    }
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

  it('renders a NetworkPolicy by default: the agent port from the control plane only, egress off the cluster', () => {
    const text = template('networkpolicy.yaml');
    expect(text.trimStart().split('\n')[0]).toBe('{{- if .Values.networkPolicy.enabled }}');
    expect((values.networkPolicy as Tree).enabled).toBe(true);
    expect(text).toContain('namespace: {{ include "ventus.browserNamespace" . }}');
    const policy = parse(literalYaml(text)) as Tree & { spec: Tree };
    expect(policy).toMatchObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' });
    // Every Pod the driver makes carries the driver's own label.
    expect(policy.spec.podSelector).toEqual({ matchLabels: { [MANAGED_BY_LABEL]: MANAGED_BY } });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const ingress = policy.spec.ingress as { from: Tree[]; ports: Tree[] }[];
    expect(ingress).toHaveLength(1);
    expect(ingress[0]!.ports).toEqual([{ protocol: 'TCP', port: DEFAULT_AGENT_PORT }]);
    expect(ingress[0]!.from).toHaveLength(1);
    const peer = text.slice(text.indexOf('ingress:'), text.indexOf('egress:'));
    expect(peer).toContain('kubernetes.io/metadata.name: {{ .Release.Namespace }}');
    expect(peer).toContain('app.kubernetes.io/instance: {{ .Release.Name }}');
    expect(ingress[0]!.from[0]).toMatchObject({
      podSelector: {
        matchExpressions: [
          {
            key: 'app.kubernetes.io/component',
            operator: 'In',
            values: ['broker', 'proxy', 'workers', 'pool-controller'],
          },
        ],
      },
    });
    // Egress: DNS, then 0.0.0.0/0 and ::/0 minus every configured range, then the operator's rules.
    expect(text).toContain('{{- $denied := concat $egress.clusterCidrs $egress.deniedCidrs }}');
    expect(text.match(/except:\n\s+{{- range \$denied }}/g)).toHaveLength(2);
    expect(text).toContain('cidr: 0.0.0.0/0');
    expect(text).toContain('cidr: ::/0');
    expect(text).toContain('{{- with $egress.extraRules }}');
    const egress = (values.networkPolicy as { egress: Record<string, string[]> }).egress;
    const denied = [...egress.clusterCidrs!, ...egress.deniedCidrs!];
    for (const range of [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '169.254.0.0/16',
      '100.64.0.0/10',
    ]) {
      expect(denied).toContain(range);
    }
    expect(denied).toEqual(expect.arrayContaining(['fc00::/7', 'fe80::/10']));
  });

  it('keeps browser pods in a namespace of their own, labelled Pod Security restricted', () => {
    const helpers = template('_helpers.tpl');
    const define = helpers.slice(helpers.indexOf('{{- define "ventus.browserNamespace"'));
    expect(define.slice(0, define.indexOf('{{- end -}}\n{{- end -}}'))).toContain(
      '{{- if or (not .Values.browser.namespace) (eq .Values.browser.namespace .Release.Namespace) -}}\n{{- fail',
    );
    expect((values.browser as Tree).namespace).toBe('ventus-browsers');
    const namespace = template('namespace.yaml');
    expect(namespace).toContain('name: {{ include "ventus.browserNamespace" . }}');
    const labels = (parse(literalYaml(namespace)) as { metadata: { labels: Tree } }).metadata.labels;
    expect(labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    // Every namespaced object of the browser side goes there; nothing else does.
    for (const file of ['rbac.yaml', 'networkpolicy.yaml']) {
      expect(template(file), file).toMatch(/namespace: {{ include "ventus.browserNamespace" \. }}/);
    }
  });

  it("puts the pod-agent key in the control plane's Secret only, generated once and kept", () => {
    const secret = template('secret.yaml');
    expect(secret).toContain('VENTUS_POD_AGENT_KEY: {{ $agentKey | quote }}');
    expect(secret).toMatch(
      /\$agentKey := include "ventus.keptSecret" \(dict "value" \.Values\.secrets\.podAgentKey "existing" \$existing "key" "VENTUS_POD_AGENT_KEY"\)/,
    );
    expect(template('_helpers.tpl')).toContain('{{- $value | default (randAlphaNum 48) -}}');
    // Only the four control-plane Deployments take the Secret (envFrom); browser pods are the driver's.
    const users = templateFiles.filter((f) => template(f).includes('include "ventus.envFrom"'));
    expect(users.sort()).toEqual([
      '_helpers.tpl',
      'broker-deployment.yaml',
      'pool-controller-deployment.yaml',
      'proxy-deployment.yaml',
      'workers-deployment.yaml',
    ]);
    expect(readFileSync(path.join(ROOT, 'core', 'config', 'config.ts'), 'utf8')).toContain(
      'VENTUS_POD_AGENT_KEY',
    );
  });
});
