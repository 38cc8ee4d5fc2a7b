// Pools (operator scope): live figures, the last hour as a chart, live editing of min_ready and
// max_total (PATCH /v1/pools/{name}, audited), Erlang-B capacity advice next to them, a form to
// create a pool (pool-create.js) and a button to retire one.
import { api, every, query } from './api.js';
import { announce, h, notice, replace } from './dom.js';
import { poolChart } from './chart.js';
import { poolCreateForm } from './pool-create.js';

const FIGURES_MS = 2000;
const HISTORY_MS = 5000;

const FIGURES = [
  ['ready', 'Ready', (p) => p.status.ready],
  ['warming', 'Warming', (p) => p.status.warming],
  ['held', 'Held', (p) => p.status.held],
  ['admitted', 'Admitted', (p) => p.status.admitted],
  ['queued', 'Queued', (p) => p.status.queued],
  ['min_ready', 'min_ready', (p) => p.min_ready],
  ['max_total', 'max_total', (p) => p.max_total],
  [
    'warmup',
    'Pod start (median)',
    (p) => (p.status.warmup_ms === null ? '—' : `${(p.status.warmup_ms / 1000).toFixed(1)} s`),
  ],
];

const pct = (x) => `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 1)} %`;

function numberField(id, label, props = {}) {
  const input = h('input', { id, name: id, type: 'number', inputmode: 'decimal', ...props });
  return { input, field: h('div', { class: 'field' }, h('label', { for: id }, label), input) };
}

function poolSection(pool) {
  const slug = pool.name.replace(/[^a-z0-9-]/g, '');
  const figures = h('dl', { class: 'figures' });
  const chartBox = h('div');
  const minReady = numberField(`${slug}-min-ready`, 'min_ready (warm pods to keep)', {
    min: 0,
    step: 1,
    required: true,
  });
  const maxTotal = numberField(`${slug}-max-total`, 'max_total (most pods)', {
    min: 0,
    step: 1,
    required: true,
  });
  minReady.input.value = String(pool.min_ready);
  maxTotal.input.value = String(pool.max_total);
  const editStatus = h('div');
  const editForm = h(
    'form',
    { class: 'card', 'aria-labelledby': `${slug}-edit` },
    h('h3', { id: `${slug}-edit` }, 'Settings'),
    minReady.field,
    maxTotal.field,
    h('button', { type: 'submit' }, 'Save settings'),
    h(
      'p',
      { class: 'help' },
      'The pool controller acts within a second; running sessions are never touched.',
    ),
    editStatus,
  );
  editForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { min_ready: Number(minReady.input.value), max_total: Number(maxTotal.input.value) };
    if (
      !Number.isInteger(body.min_ready) ||
      !Number.isInteger(body.max_total) ||
      body.min_ready < 0 ||
      body.max_total < 0
    ) {
      replace(editStatus, notice('error', 'min_ready and max_total are whole numbers ≥ 0.'));
      return;
    }
    try {
      const after = await api(`/v1/pools/${encodeURIComponent(pool.name)}`, { method: 'PATCH', body });
      minReady.input.value = String(after.min_ready);
      maxTotal.input.value = String(after.max_total);
      renderFigures(after);
      replace(
        editStatus,
        notice('success', `Saved: min_ready ${after.min_ready}, max_total ${after.max_total}.`),
      );
    } catch (err) {
      replace(editStatus, notice('error', err.detail));
    }
  });

  const fields = {
    arrival: numberField(`${slug}-arrival`, 'Arrival rate (sessions/s)', { min: 0, step: 'any' }),
    mean: numberField(`${slug}-mean`, 'Mean session length (s)', { min: 0, step: 'any' }),
    start: numberField(`${slug}-start`, 'Pod start time (s)', { min: 0, step: 'any' }),
    target503: numberField(`${slug}-target-503`, 'Acceptable 503 rate (%)', {
      min: 0,
      max: 100,
      step: 'any',
      value: 1,
    }),
    warmHit: numberField(`${slug}-warm-hit`, 'Wanted warm-hit rate (%)', {
      min: 0,
      max: 100,
      step: 'any',
      value: 95,
    }),
  };
  const adviceBox = h('div', { 'aria-live': 'polite' });
  const adviceForm = h(
    'form',
    { class: 'card', 'aria-labelledby': `${slug}-advice` },
    h('h3', { id: `${slug}-advice` }, 'Capacity advice (Erlang-B)'),
    h('p', { class: 'help' }, 'Empty traffic fields use what the pool saw in the last hour.'),
    Object.values(fields).map((f) => f.field),
    h('button', { type: 'submit', class: 'secondary' }, 'Compute advice'),
    adviceBox,
  );

  async function advise() {
    const value = (f, scale = 1) => (f.input.value === '' ? undefined : Number(f.input.value) / scale);
    try {
      const a = await api(
        `/v1/pools/${encodeURIComponent(pool.name)}/advice${query({
          arrival_rate: value(fields.arrival),
          mean_session: value(fields.mean),
          start_seconds: value(fields.start),
          target_503: value(fields.target503, 100),
          target_warm_hit: value(fields.warmHit, 100),
        })}`,
      );
      fields.arrival.input.placeholder = a.observed.arrival_rate_per_second.toFixed(4);
      if (a.observed.mean_session_seconds !== null)
        fields.mean.input.placeholder = a.observed.mean_session_seconds.toFixed(1);
      if (a.observed.warmup_ms !== null)
        fields.start.input.placeholder = (a.observed.warmup_ms / 1000).toFixed(2);
      replace(adviceBox, adviceResult(a, minReady, maxTotal));
    } catch (err) {
      replace(adviceBox, notice('error', err.detail));
    }
  }
  adviceForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void advise();
  });

  function renderFigures(p) {
    retireButton.hidden = p.retired_at !== null;
    retiredNote.textContent = p.retired_at ? `Retired ${new Date(p.retired_at).toLocaleString()}` : '';
    replace(
      figures,
      FIGURES.map(([key, label, get]) =>
        h('div', {}, h('dt', {}, label), h('dd', { 'data-figure': key }, String(get(p)))),
      ),
    );
  }

  const retireButton = h(
    'button',
    { type: 'button', class: 'danger', 'data-key': `retire-${slug}` },
    'Retire pool',
  );
  const retiredNote = h('p', { class: 'muted' });
  retireButton.addEventListener('click', async () => {
    if (!window.confirm(`Retire ${pool.name}? It admits no new session; running sessions end as usual.`))
      return;
    try {
      await api(`/v1/pools/${encodeURIComponent(pool.name)}`, { method: 'DELETE' });
      const after = await api(`/v1/pools/${encodeURIComponent(pool.name)}`);
      renderFigures(after);
    } catch (err) {
      replace(editStatus, notice('error', err.detail));
    }
  });

  const section = h(
    'section',
    { class: 'pool', 'aria-labelledby': `${slug}-title`, 'data-pool': pool.name },
    h('h2', { id: `${slug}-title` }, pool.name),
    h('p', { class: 'muted' }, `${pool.region} · ${pool.runtime_kind}`),
    retiredNote,
    retireButton,
    figures,
    h('div', { class: 'card' }, h('h3', {}, 'Last hour'), chartBox),
    h('div', { class: 'columns' }, editForm, adviceForm),
  );
  renderFigures(pool);
  void advise();
  return { section, renderFigures, chartBox };
}

function adviceResult(a, minReady, maxTotal) {
  if (!a.advice) {
    return notice(
      'info',
      `Not enough traffic observed to advise: give ${a.missing.map((m) => m.replace('_', ' ')).join(' and ')}.`,
    );
  }
  const row = (label, advice, current) =>
    h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, advice), h('td', {}, current));
  const apply = h('button', { type: 'button', class: 'secondary' }, 'Use these settings');
  apply.addEventListener('click', () => {
    minReady.input.value = String(a.advice.min_ready);
    maxTotal.input.value = String(a.advice.max_total);
    minReady.input.focus();
    announce('Recommended settings copied into the settings form; save to apply them.');
  });
  return h(
    'div',
    {},
    h(
      'p',
      { class: 'help' },
      `Traffic: ${a.inputs.arrival_rate_per_second.toFixed(4)}/s × ${a.inputs.mean_session_seconds.toFixed(1)} s = ` +
        `${a.advice.offered_load_erlangs.toFixed(2)} erlangs; pod start ${a.inputs.start_seconds.toFixed(2)} s.`,
    ),
    h(
      'table',
      { class: 'advice' },
      h('caption', { class: 'visually-hidden' }, 'Recommended and current settings'),
      h(
        'thead',
        {},
        h('tr', {}, h('td', {}), h('th', { scope: 'col' }, 'Recommended'), h('th', { scope: 'col' }, 'Now')),
      ),
      h(
        'tbody',
        {},
        row('max_total', String(a.advice.max_total), String(a.current.max_total)),
        row('min_ready', String(a.advice.min_ready), String(a.current.min_ready)),
        row('503 rate', pct(a.advice.predicted.rate_503), pct(a.current.predicted.rate_503)),
        row('Warm hits', pct(a.advice.predicted.warm_hit_rate), pct(a.current.predicted.warm_hit_rate)),
      ),
    ),
    a.advice.notes.map((n) => h('p', { class: 'help' }, n)),
    apply,
  );
}

export function poolsView(main, principal) {
  const heading = h('h1', {}, 'Pools');
  if (!principal.operator) {
    replace(main, heading, notice('info', 'The pools page needs an API key with the operator scope.'));
    return () => {};
  }
  const error = h('div');
  const list = h('div');
  replace(
    main,
    heading,
    poolCreateForm(() => loadFigures()),
    error,
    list,
  );
  const sections = new Map();

  async function loadFigures() {
    let pools;
    try {
      pools = (await api('/v1/pools?limit=100')).items;
    } catch (err) {
      replace(
        error,
        notice(
          'error',
          err.status === 403 ? 'The pools page needs an API key with the operator scope.' : err.message,
        ),
      );
      return;
    }
    replace(error);
    let added = false;
    for (const pool of pools) {
      let s = sections.get(pool.name);
      if (!s) {
        s = poolSection(pool);
        sections.set(pool.name, s);
        list.append(s.section);
        added = true;
      } else s.renderFigures(pool);
    }
    // A new pool's chart should not wait for the next history tick.
    if (added) await loadHistory().catch(() => {});
  }

  async function loadHistory() {
    for (const [name, s] of sections) {
      const history = await api(`/v1/pools/${encodeURIComponent(name)}/history`);
      replace(s.chartBox, poolChart(history.samples, name));
    }
  }

  const stopFigures = every(FIGURES_MS, loadFigures);
  const stopHistory = every(HISTORY_MS, loadHistory);
  return () => {
    stopFigures();
    stopHistory();
  };
}
