// Workspace settings. A key with sessions:read sees its own workspace and the limits it runs under
// (GET /v1/workspace); a key with keys:admin (the workspace's owners) sets recording_retention_days
// (PATCH /v1/workspace, audited). An operator also gets every workspace with an editor of its limits
// (PATCH /v1/workspaces/{id}/limits, audited); an empty field restores the installation default.
import { api } from './api.js';
import { h, notice, replace } from './dom.js';

const LIMITS = [
  ['live_sessions', 'Live sessions'],
  ['max_session_lifetime_seconds', 'Maximum session lifetime (s; empty: none)'],
  ['profiles', 'Profiles'],
  ['versions_per_profile', 'Versions kept per profile'],
  ['stored_bytes', 'Stored profile bytes'],
  ['cdp_sockets_per_session', 'CDP sockets per session'],
  ['viewers_per_session', 'Live-view viewers per session'],
];

function limitsList(ws) {
  return h(
    'dl',
    { class: 'figures', 'data-limits': ws.id },
    LIMITS.map(([name, label]) => [
      h('dt', {}, label),
      h('dd', { 'data-limit': name }, ws.limits[name] === null ? 'none' : String(ws.limits[name])),
    ]),
  );
}

function retentionForm(ws) {
  const input = h('input', {
    id: 'retention-days',
    name: 'retention-days',
    type: 'number',
    min: 1,
    max: 3650,
    step: 1,
    required: true,
    value: ws.recording_retention_days,
  });
  const status = h('div');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'retention-title' },
    h('h2', { id: 'retention-title' }, 'Recording retention'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'retention-days' }, 'Keep recordings for (days, 1–3650)'),
      input,
    ),
    h('button', { type: 'submit' }, 'Save retention'),
    h('p', { class: 'help' }, 'Applies to recordings made from now on. Needs an API key with keys:admin.'),
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const days = Number(input.value);
    if (!Number.isInteger(days) || days < 1 || days > 3650) {
      replace(status, notice('error', 'Enter a whole number of days from 1 to 3650.'));
      return;
    }
    try {
      const after = await api('/v1/workspace', { method: 'PATCH', body: { recording_retention_days: days } });
      replace(
        status,
        notice('success', `Saved: recordings are kept ${after.recording_retention_days} days.`),
      );
    } catch (err) {
      replace(
        status,
        notice(
          'error',
          err.status === 403 ? 'Changing retention needs an API key with keys:admin.' : err.detail,
        ),
      );
    }
  });
  return form;
}

function limitsEditor(ws, onSaved) {
  const slug = ws.id.toLowerCase();
  const inputs = Object.fromEntries(
    LIMITS.map(([name]) => [
      name,
      h('input', {
        id: `${slug}-${name}`,
        name,
        type: 'number',
        min: 0,
        step: 1,
        value: ws.limits[name] === null ? '' : ws.limits[name],
      }),
    ]),
  );
  const status = h('div');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': `${slug}-limits`, 'data-workspace': ws.name },
    h('h3', { id: `${slug}-limits` }, `Limits of ${ws.name}`),
    LIMITS.map(([name, label]) =>
      h('div', { class: 'field' }, h('label', { for: `${slug}-${name}` }, label), inputs[name]),
    ),
    h('button', { type: 'submit' }, 'Save limits'),
    h(
      'p',
      { class: 'help' },
      'An empty field restores the installation default. Audited as an admin action.',
    ),
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    for (const [name] of LIMITS) {
      const raw = inputs[name].value.trim();
      const value = raw === '' ? null : Number(raw);
      if (value !== null && !Number.isInteger(value)) {
        replace(status, notice('error', `${name} must be a whole number.`));
        return;
      }
      if (value !== ws.limits[name]) body[name] = value;
    }
    if (Object.keys(body).length === 0) {
      replace(status, notice('info', 'Nothing changed.'));
      return;
    }
    try {
      const after = await api(`/v1/workspaces/${encodeURIComponent(ws.id)}/limits`, {
        method: 'PATCH',
        body,
      });
      Object.assign(ws, after);
      onSaved(after);
      replace(status, notice('success', `Saved limits of ${after.name}.`));
    } catch (err) {
      replace(status, notice('error', err.detail));
    }
  });
  return form;
}

/** Renders the page; returns its cleanup (nothing polls here). */
export function workspacesView(main, principal) {
  let stopped = false;
  const own = h(
    'section',
    { 'aria-labelledby': 'own-title' },
    h('h2', { id: 'own-title' }, 'This workspace'),
  );
  const all = h('section', { 'aria-labelledby': 'all-title' });
  replace(main, h('h1', {}, 'Workspace'), own, all);
  (async () => {
    try {
      const ws = await api('/v1/workspace');
      if (stopped) return;
      replace(
        own,
        h('h2', { id: 'own-title' }, `This workspace: ${ws.name}`),
        limitsList(ws),
        retentionForm(ws),
      );
    } catch (err) {
      replace(own, notice('error', err.detail));
    }
    if (!principal.operator || stopped) return;
    try {
      const { data } = await api('/v1/workspaces');
      if (stopped) return;
      replace(
        all,
        h('h2', { id: 'all-title' }, 'All workspaces (operator)'),
        data.map((ws) => {
          const box = h('div', {}, limitsList(ws));
          return h(
            'section',
            { 'data-workspace-id': ws.id },
            box,
            limitsEditor(ws, (after) => replace(box, limitsList(after))),
          );
        }),
      );
    } catch (err) {
      replace(all, notice('error', err.detail));
    }
  })();
  return () => {
    stopped = true;
  };
}
