// API keys (keys:admin): the workspace's keys with their scopes, a form to create one with chosen
// scopes (the secret is shown once, never again), and revoke. A key cannot grant scopes it lacks:
// the API answers 403 and the page says so.
import { api, query } from './api.js';
import { h, keepFocus, notice, replace, time } from './dom.js';

/** Scopes a workspace key may grant (`operator` comes from the CLI only). */
const GRANTABLE = [
  'sessions:read',
  'sessions:write',
  'profiles:read',
  'profiles:write',
  'audit:read',
  'keys:admin',
];

export function keysView(main, principal) {
  const heading = h('h1', {}, 'API keys');
  if (!principal.keysAdmin) {
    replace(main, heading, notice('info', 'The API keys page needs a key with the keys:admin scope.'));
    return () => {};
  }
  const nameInput = h('input', { id: 'key-name', type: 'text', maxlength: 128, autocomplete: 'off' });
  const boxes = GRANTABLE.map((scope) => {
    const id = `scope-${scope.replace(':', '-')}`;
    const box = h('input', { type: 'checkbox', id, value: scope, checked: scope.startsWith('sessions:') });
    return { box, el: h('span', { class: 'check' }, box, h('label', { for: id, class: 'mono' }, scope)) };
  });
  const created = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-key-title', novalidate: true },
    h('h2', { id: 'new-key-title' }, 'New key'),
    h('div', { class: 'field' }, h('label', { for: 'key-name' }, 'Name (for people)'), nameInput),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Scopes'),
      boxes.map((b) => b.el),
    ),
    h('button', { type: 'submit' }, 'Create key'),
    created,
  );
  const status = h('div', { 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'keys' },
    h('caption', { class: 'visually-hidden' }, 'API keys of this workspace'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Key', 'Name', 'Scopes', 'Created', 'State', ''].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    tbody,
  );

  async function revoke(key) {
    if (!window.confirm(`Revoke key ${key.id}? Clients using it stop working within seconds.`)) return;
    try {
      await api(`/v1/keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' });
      replace(status, notice('success', `Revoked ${key.id}.`));
      await load();
    } catch (err) {
      replace(status, notice('error', err.detail));
    }
  }

  function row(key) {
    const revokeButton = h(
      'button',
      { type: 'button', class: 'danger', 'data-key': `revoke-${key.id}` },
      'Revoke',
    );
    revokeButton.addEventListener('click', () => void revoke(key));
    return h(
      'tr',
      { 'data-api-key': key.id },
      h('td', { class: 'mono' }, key.id),
      h('td', {}, key.name ?? '—'),
      h('td', { class: 'mono' }, key.scopes.join(' ')),
      h('td', {}, time(key.created_at)),
      h('td', {}, key.revoked_at ? `Revoked ${time(key.revoked_at).textContent}` : 'Active'),
      h('td', {}, key.revoked_at ? null : revokeButton),
    );
  }

  async function load() {
    const keys = [];
    let cursor;
    do {
      const page = await api(`/v1/keys${query({ limit: 100, cursor })}`);
      keys.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    keys.reverse(); // newest first
    keepFocus(tbody, () => replace(tbody, keys.map(row)));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const scopes = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
    if (scopes.length === 0) return replace(created, notice('error', 'Choose at least one scope.'));
    try {
      const name = nameInput.value.trim();
      const key = await api('/v1/keys', { method: 'POST', body: { scopes, ...(name && { name }) } });
      const secret = h('input', {
        type: 'text',
        readonly: true,
        id: 'new-key-secret',
        class: 'mono',
        value: key.api_key,
      });
      replace(
        created,
        notice(
          'success',
          h('label', { for: 'new-key-secret' }, `Key ${key.id} created. Copy it now: it is not shown again.`),
          secret,
        ),
      );
      secret.select();
      nameInput.value = '';
      await load();
    } catch (err) {
      replace(created, notice('error', err.detail));
    }
  });

  replace(main, heading, form, status, h('section', { class: 'card' }, h('h2', {}, 'Keys'), table));
  load().catch((err) => replace(status, notice('error', err.detail)));
  return () => {};
}
