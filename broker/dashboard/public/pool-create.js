// "New pool" (operator): POST /v1/pools with region, runtime kind, min_ready, max_total and the pod
// template's image and node selector. The API refuses what the deployment's driver cannot run (an rda
// pool off the kubernetes driver) with a problem whose detail the form shows as is.
import { api } from './api.js';
import { h, notice, replace } from './dom.js';

/** `k=v, k2=v2` -> a node selector; undefined when malformed. */
function nodeSelector(text) {
  const pairs = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => p.split('='));
  if (pairs.some((p) => p.length !== 2 || !p[0].trim())) return undefined;
  return Object.fromEntries(pairs.map(([k, v]) => [k.trim(), v.trim()]));
}

export function poolCreateForm(onCreated) {
  const input = (id, label, props) => {
    const el = h(props.tag ?? 'input', { id, name: id, ...props, tag: undefined });
    return { el, field: h('div', { class: 'field' }, h('label', { for: id }, label), el) };
  };
  const region = input('np-region', 'Region', { type: 'text', placeholder: 'europe-west1', required: true });
  const kind = input('np-kind', 'Runtime', { tag: 'select' });
  kind.el.append(
    h('option', { value: 'chromium' }, 'chromium'),
    h('option', { value: 'rda' }, 'rda (Windows RDA)'),
  );
  const minReady = input('np-min-ready', 'min_ready', { type: 'number', min: 0, step: 1, value: 0 });
  const maxTotal = input('np-max-total', 'max_total', { type: 'number', min: 0, step: 1, value: 10 });
  const image = input('np-image', 'Image (rda: required)', {
    type: 'text',
    placeholder: 'registry/rda-runtime:1.0',
  });
  const selector = input('np-node-selector', 'Node selector', { type: 'text', placeholder: 'pool=browsers' });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-pool-title', novalidate: true },
    h('h2', { id: 'new-pool-title' }, 'New pool'),
    h('div', { class: 'columns' }, [
      region.field,
      kind.field,
      minReady.field,
      maxTotal.field,
      image.field,
      selector.field,
    ]),
    h('button', { type: 'submit' }, 'Create pool'),
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const template = {};
    if (image.el.value.trim()) template.image = image.el.value.trim();
    if (selector.el.value.trim()) {
      const parsed = nodeSelector(selector.el.value);
      if (!parsed) return replace(status, notice('error', 'Node selector is key=value, comma-separated.'));
      template.node_selector = parsed;
    }
    try {
      const pool = await api('/v1/pools', {
        method: 'POST',
        body: {
          region: region.el.value.trim(),
          runtime_kind: kind.el.value,
          min_ready: Number(minReady.el.value),
          max_total: Number(maxTotal.el.value),
          ...(Object.keys(template).length && { pod_template: template }),
        },
      });
      replace(status, notice('success', `Created ${pool.name}.`));
      await onCreated(pool);
    } catch (err) {
      replace(status, notice('error', err.detail));
    }
  });
  return form;
}
