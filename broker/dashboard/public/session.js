// One session: details, labels, release, the embedded live view, the recording player with a
// timeline of its transitions (recording-player.js), its state transitions and its audit rows. Polls every 2 s; the live-view frame is kept across polls.
import { api, every, query } from './api.js';
import { announce, h, keepFocus, notice, replace, statusBadge, statusLabel, TERMINAL, time } from './dom.js';
import { showRecording } from './recording-player.js';

const POLL_MS = 2000;

/** Only http(s) URLs become a frame source (never javascript: or data:). */
function safeHttpUrl(value) {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const url = new URL(value, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function details(s) {
  const item = (term, value) => [h('dt', {}, term), h('dd', {}, value ?? '—')];
  const viewport = s.viewport ? `${s.viewport.width} × ${s.viewport.height}` : 'default';
  return h(
    'dl',
    { class: 'details' },
    item('Status', statusBadge(s.status)),
    item('Region', s.region),
    item('Runtime', s.runtime_kind),
    item('Created', time(s.created_at)),
    item('Started', time(s.started_at)),
    item(s.released_at ? 'Ended' : 'Expires', time(s.released_at ?? s.expires_at)),
    item('Release reason', s.release_reason),
    item('Error', s.error),
    item('Timeout', `${s.timeout_seconds} s`),
    item('Keep-alive', `${s.keep_alive_seconds} s`),
    item('Viewport', viewport),
    item('Recording', s.recording?.enabled ? 'enabled' : 'off'),
  );
}

function labelsTable(labels) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return h('p', { class: 'muted' }, 'No labels.');
  return h(
    'table',
    { class: 'labels-table' },
    h('caption', { class: 'visually-hidden' }, 'Labels'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))),
    h(
      'tbody',
      {},
      entries.map(([k, v]) => h('tr', {}, h('th', { scope: 'row', class: 'mono' }, k), h('td', {}, v))),
    ),
  );
}

function transitionsTable(items) {
  if (!items.length) return h('p', { class: 'muted' }, 'No transitions yet.');
  return h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, 'Transitions, oldest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['At', 'From', 'To', 'Reason', 'Actor'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      items.map((t) =>
        h(
          'tr',
          {},
          h('td', {}, time(t.at)),
          h('td', {}, t.from ? statusLabel(t.from) : '—'),
          h('td', {}, statusLabel(t.to)),
          h('td', {}, t.reason ?? '—'),
          h('td', { class: 'mono' }, t.actor ?? '—'),
        ),
      ),
    ),
  );
}

function auditTable(items) {
  if (!items.length) return h('p', { class: 'muted' }, 'No audit rows for this session.');
  return h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, 'Audit rows, newest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['At', 'Class', 'Action', 'Actor', 'Detail'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      items.map((a) =>
        h(
          'tr',
          {},
          h('td', {}, time(a.at)),
          h('td', {}, a.class),
          h('td', { class: 'mono' }, a.action),
          h('td', { class: 'mono' }, a.actor ?? '—'),
          h(
            'td',
            { class: 'mono detail' },
            Object.keys(a.detail ?? {}).length ? JSON.stringify(a.detail) : '—',
          ),
        ),
      ),
    ),
  );
}

export function sessionView(main, id) {
  const base = `/v1/sessions/${encodeURIComponent(id)}`;
  const heading = h('h1', {}, 'Session ', h('span', { class: 'mono' }, id));
  const actionStatus = h('div', { class: 'action-status' });
  const releaseButton = h(
    'button',
    { type: 'button', 'data-key': 'release', class: 'danger' },
    'Release session',
  );
  const actions = h('div', { class: 'actions' });
  const error = h('div');
  const detailsBox = h('div');
  const labelsBox = h('div');
  const transitionsBox = h('div');
  const recordingBox = h('div');
  const recordingSection = h(
    'section',
    { 'aria-labelledby': 'h-recording', class: 'card', hidden: true },
    h('h2', { id: 'h-recording' }, 'Recording'),
    recordingBox,
  );
  const auditBox = h('div');
  const liveMessage = h('div');
  const liveBox = h('div', { class: 'live-view' });
  const interactiveButton = h(
    'button',
    { type: 'button', class: 'secondary' },
    'Request interactive control',
  );
  const reloadButton = h('button', { type: 'button', class: 'secondary' }, 'Reload viewer (read-only)');
  const liveActions = h('div', { class: 'actions' }, interactiveButton, reloadButton);

  replace(
    main,
    h('p', {}, h('a', { href: '#/sessions' }, '← All sessions')),
    heading,
    error,
    h(
      'section',
      { 'aria-labelledby': 'h-actions' },
      h('h2', { id: 'h-actions', class: 'visually-hidden' }, 'Actions'),
      actions,
      actionStatus,
    ),
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { 'aria-labelledby': 'h-details', class: 'card' },
        h('h2', { id: 'h-details' }, 'Details'),
        detailsBox,
      ),
      h(
        'section',
        { 'aria-labelledby': 'h-labels', class: 'card' },
        h('h2', { id: 'h-labels' }, 'Labels'),
        labelsBox,
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-live', class: 'card' },
      h('h2', { id: 'h-live' }, 'Live view'),
      liveMessage,
      liveBox,
    ),
    recordingSection,
    h(
      'section',
      { 'aria-labelledby': 'h-transitions', class: 'card' },
      h('h2', { id: 'h-transitions' }, 'Transitions'),
      transitionsBox,
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-audit', class: 'card' },
      h('h2', { id: 'h-audit' }, 'Audit'),
      auditBox,
    ),
  );

  let session;
  let frame;
  let auditAllowed = true;
  let recordingShown = false;
  const rendered = { details: '', transitions: '', audit: '' };

  function showFrame(url, interactive) {
    const src = safeHttpUrl(url);
    if (!src) return;
    if (!frame) {
      frame = h('iframe', {
        title: `Live view of session ${id}`,
        referrerpolicy: 'no-referrer',
      });
      replace(liveBox, frame, liveActions);
    }
    // Set as a property: the signed URL lives in the frame's src and nowhere in the page's text.
    frame.src = src;
    frame.dataset.mode = interactive ? 'interactive' : 'read-only';
  }

  function renderLive(s) {
    if (TERMINAL.has(s.status)) {
      frame = undefined;
      replace(liveBox);
      replace(
        liveMessage,
        h('p', { class: 'muted' }, `The session ended (${statusLabel(s.status)}); its live view is closed.`),
      );
    } else if (s.status !== 'RUNNING') {
      replace(liveMessage, h('p', { class: 'muted' }, 'The live view opens when the session is Running.'));
    } else if (!frame) {
      replace(
        liveMessage,
        h(
          'p',
          { class: 'muted' },
          'Read-only: your clicks and keys do not reach the browser until you request interactive control.',
        ),
      );
      showFrame(s.live_view_url, false);
    }
  }

  function renderActions(s) {
    keepFocus(actions, () => replace(actions, TERMINAL.has(s.status) ? null : releaseButton));
  }

  async function load() {
    try {
      session = await api(base);
    } catch (err) {
      replace(
        error,
        notice('error', err.status === 404 ? 'No such session in this workspace.' : err.message),
      );
      return;
    }
    replace(error);
    const before = rendered.details && JSON.parse(rendered.details).status;
    const sig = JSON.stringify({ ...session, connect_url: '', live_view_url: '' });
    if (sig !== rendered.details) {
      rendered.details = sig;
      if (before && before !== session.status) announce(`Session is now ${statusLabel(session.status)}`);
      replace(detailsBox, details(session));
      replace(labelsBox, labelsTable(session.labels));
      renderActions(session);
    }
    renderLive(session);
    const transitions = await api(`${base}/transitions`).catch(() => undefined);
    if (transitions && JSON.stringify(transitions.items) !== rendered.transitions) {
      rendered.transitions = JSON.stringify(transitions.items);
      replace(transitionsBox, transitionsTable(transitions.items));
    }
    if (session.recording?.enabled) {
      recordingSection.hidden = false;
      if (!TERMINAL.has(session.status))
        replace(
          recordingBox,
          h('p', { class: 'muted' }, 'Recording; the player opens when the session ends.'),
        );
      else if (!recordingShown && transitions)
        recordingShown = await showRecording(recordingBox, base, transitions.items);
    }
    if (!auditAllowed) return;
    try {
      const audit = await api(`/v1/audit${query({ target: `session:${id}`, limit: 50 })}`);
      if (JSON.stringify(audit.items) !== rendered.audit) {
        rendered.audit = JSON.stringify(audit.items);
        replace(auditBox, auditTable(audit.items));
      }
    } catch (err) {
      if (err.status === 403) {
        auditAllowed = false;
        replace(
          auditBox,
          h('p', { class: 'muted' }, 'Reading the audit log needs an API key with the audit:read scope.'),
        );
      }
    }
  }

  releaseButton.addEventListener('click', async () => {
    releaseButton.disabled = true;
    replace(actionStatus, notice('info', 'Releasing…'));
    try {
      session = await api(base, { method: 'PATCH', body: { status: 'REQUEST_RELEASE' } });
      replace(actionStatus, notice('success', `Released. The session is ${statusLabel(session.status)}.`));
      await load();
      heading.focus();
    } catch (err) {
      replace(actionStatus, notice('error', err.message));
    } finally {
      releaseButton.disabled = false;
    }
  });

  interactiveButton.addEventListener('click', async () => {
    interactiveButton.disabled = true;
    try {
      const view = await api(`${base}/live-view`, { method: 'POST', body: { interactive: true } });
      showFrame(view.live_view_url, view.interactive);
      replace(
        liveMessage,
        notice(
          'success',
          `Interactive control granted until ${new Date(view.expires_at).toLocaleTimeString()}. Your clicks and keys reach the browser.`,
        ),
      );
    } catch (err) {
      replace(liveMessage, notice('error', `Interactive control refused: ${err.detail}`));
    } finally {
      interactiveButton.disabled = false;
    }
  });

  reloadButton.addEventListener('click', async () => {
    try {
      const fresh = await api(base);
      showFrame(fresh.live_view_url, false);
      replace(liveMessage, notice('info', 'Viewer reloaded with a fresh read-only link.'));
    } catch (err) {
      replace(liveMessage, notice('error', err.message));
    }
  });

  const stop = every(POLL_MS, load);
  return () => stop();
}
