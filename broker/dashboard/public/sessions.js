// The sessions list: status and label filters (the API's own `status` and `label` query filters),
// cursor pagination, and live updates every 2 s with status changes announced politely.
import { api, every, query } from './api.js';
import { announce, h, keepFocus, notice, replace, statusBadge, statusLabel, STATUSES, time } from './dom.js';

const PAGE_SIZE = 25;
const POLL_MS = 2000;

/** Filters and position survive moving to a session page and back. */
const state = { statuses: new Set(), label: '', cursors: [undefined] };

function labelList(labels) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return h('span', { class: 'muted' }, 'none');
  return h(
    'ul',
    { class: 'labels' },
    entries.map(([k, v]) => h('li', {}, h('span', { class: 'label-key' }, k), '=', h('span', {}, v))),
  );
}

function row(s) {
  return h(
    'tr',
    { 'data-session': s.id },
    h('td', {}, h('a', { href: `#/sessions/${s.id}`, 'data-key': `open-${s.id}`, class: 'mono' }, s.id)),
    h('td', {}, statusBadge(s.status)),
    h('td', {}, labelList(s.labels)),
    h('td', {}, time(s.created_at)),
    h('td', {}, s.released_at ? time(s.released_at) : time(s.expires_at)),
  );
}

export function sessionsView(main) {
  const statusBoxes = STATUSES.map((status) => {
    const id = `filter-${status.toLowerCase()}`;
    const box = h('input', {
      type: 'checkbox',
      id,
      value: status,
      checked: state.statuses.has(status),
    });
    box.addEventListener('change', () => {
      if (box.checked) state.statuses.add(status);
      else state.statuses.delete(status);
      state.cursors = [undefined];
      restart();
    });
    return h('span', { class: 'check' }, box, h('label', { for: id }, statusLabel(status)));
  });
  const labelInput = h('input', {
    id: 'filter-label',
    type: 'text',
    value: state.label,
    placeholder: 'team:checkout',
    'aria-describedby': 'filter-label-help',
    autocomplete: 'off',
  });
  const labelForm = h(
    'form',
    { class: 'inline-form' },
    h('label', { for: 'filter-label' }, 'Label'),
    labelInput,
    h('button', { type: 'submit', class: 'secondary' }, 'Filter'),
    h('span', { id: 'filter-label-help', class: 'help' }, 'key:value; empty for all'),
  );
  const error = h('div');
  const meta = h('p', { class: 'muted', id: 'list-meta' });
  const tbody = h('tbody');
  const pager = h('div', { class: 'pager' });
  const table = h(
    'table',
    { class: 'sessions' },
    h('caption', {}, 'Sessions, oldest first (as the API pages them)'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Session', 'Status', 'Labels', 'Created', 'Ends / ended'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    tbody,
  );

  labelForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = labelInput.value.trim();
    if (value && !/^[^:]+:.*$/.test(value)) {
      replace(error, notice('error', 'A label filter is key:value, e.g. team:checkout.'));
      return;
    }
    state.label = value;
    state.cursors = [undefined];
    restart();
  });

  replace(
    main,
    h('h1', {}, 'Sessions'),
    h('div', { class: 'filters card' }, h('fieldset', {}, h('legend', {}, 'Status'), statusBoxes), labelForm),
    error,
    meta,
    table,
    pager,
  );

  /** Last seen status per session id, to announce changes. */
  const seen = new Map();
  let signature = '';
  let stop = () => {};

  const pageButton = (text, key, onClick, disabled) =>
    h('button', { type: 'button', class: 'secondary', 'data-key': key, disabled, onclick: onClick }, text);

  function renderPager(page) {
    const index = state.cursors.length - 1;
    keepFocus(pager, () =>
      replace(
        pager,
        pageButton('First page', 'first', () => ((state.cursors = [undefined]), restart()), index === 0),
        pageButton('Previous page', 'prev', () => (state.cursors.pop(), restart()), index === 0),
        h('span', { class: 'muted' }, `Page ${index + 1}`),
        pageButton(
          'Next page',
          'next',
          () => (state.cursors.push(page.next_cursor), restart()),
          !page.has_more || !page.next_cursor,
        ),
      ),
    );
  }

  async function load() {
    let page;
    try {
      page = await api(
        `/v1/sessions${query({
          limit: PAGE_SIZE,
          cursor: state.cursors.at(-1),
          status: state.statuses.size ? [...state.statuses].join(',') : undefined,
          label: state.label || undefined,
        })}`,
      );
    } catch (err) {
      replace(
        error,
        notice(
          'error',
          err.status === 403 ? 'This API key cannot list sessions (needs sessions:read).' : err.message,
        ),
      );
      return;
    }
    replace(error);
    const changes = [];
    for (const s of page.items) {
      const before = seen.get(s.id);
      if (before && before !== s.status) changes.push(`Session ${s.id} is now ${statusLabel(s.status)}`);
      seen.set(s.id, s.status);
    }
    if (changes.length) announce(changes.join('. '));
    meta.textContent = `${page.items.length} session${page.items.length === 1 ? '' : 's'} on this page · updated ${new Date().toLocaleTimeString()}`;
    // Only what the table shows: re-rendering an unchanged table would move focus for nothing.
    const next = JSON.stringify(
      page.items.map((s) => [s.id, s.status, s.labels, s.released_at, s.expires_at]),
    );
    if (next !== signature) {
      signature = next;
      keepFocus(tbody, () =>
        replace(
          tbody,
          page.items.length
            ? page.items.map(row)
            : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No sessions match these filters.')),
        ),
      );
    }
    renderPager(page);
  }

  function restart() {
    stop();
    signature = '';
    stop = every(POLL_MS, load);
  }

  restart();
  return () => stop();
}
