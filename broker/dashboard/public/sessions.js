// The sessions list, newest first (`order=desc`): a search by session id or label, status filters
// (the API's own `status` and `label` query filters), cursor pagination, and live updates every 2 s
// with status changes announced politely. "New session" opens the create form.
import { api, every, query } from './api.js';
import { announce, h, keepFocus, notice, replace, statusBadge, statusLabel, STATUSES, time } from './dom.js';

const PAGE_SIZE = 25;
const POLL_MS = 2000;

/** Filters and position survive moving to a session page and back. */
const state = { statuses: new Set(), label: '', cursors: [undefined] };

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/**
 * The API's label filter for `key:value` or `key=value` as typed. A key may itself hold a colon
 * (keys are free-form): the API escapes it as `\:` (docs/api-decisions.md), so the split is at the
 * first `=` when there is one, else at the first `:`.
 */
export function labelFilter(text) {
  const at = text.includes('=') ? text.indexOf('=') : text.indexOf(':');
  if (at <= 0) return undefined;
  const key = text.slice(0, at).trim().replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  return `${key}:${text.slice(at + 1).trim()}`;
}

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
    id: 'search',
    type: 'search',
    value: state.label,
    placeholder: '01J… or team:checkout',
    'aria-describedby': 'search-help',
    autocomplete: 'off',
  });
  const labelForm = h(
    'form',
    { class: 'inline-form', role: 'search' },
    h('label', { for: 'search' }, 'Search'),
    labelInput,
    h('button', { type: 'submit', class: 'secondary' }, 'Search'),
    h(
      'span',
      { id: 'search-help', class: 'help' },
      'a session id, or a label as key:value (key=value when the key has a colon); empty for all',
    ),
  );
  const error = h('div');
  const meta = h('p', { class: 'muted', id: 'list-meta' });
  const tbody = h('tbody');
  const pager = h('div', { class: 'pager' });
  const table = h(
    'table',
    { class: 'sessions' },
    h('caption', {}, 'Sessions, newest first'),
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

  labelForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = labelInput.value.trim();
    if (ULID.test(value)) {
      // An id: open the session (a 404 there says it is not in this workspace).
      location.hash = `#/sessions/${value.toUpperCase()}`;
      return;
    }
    if (value && !labelFilter(value)) {
      replace(error, notice('error', 'Search for a session id (01J…) or a label as key:value.'));
      return;
    }
    state.label = value;
    state.cursors = [undefined];
    restart();
  });

  replace(
    main,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Sessions'),
      h('a', { href: '#/sessions/new', class: 'button', 'data-key': 'new-session' }, 'New session'),
    ),
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
          order: 'desc',
          limit: PAGE_SIZE,
          cursor: state.cursors.at(-1),
          status: state.statuses.size ? [...state.statuses].join(',') : undefined,
          label: state.label ? labelFilter(state.label) : undefined,
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
