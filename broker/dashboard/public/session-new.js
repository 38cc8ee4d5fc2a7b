// "New session": the create options of POST /v1/sessions as a form. Every field is optional (the
// API's defaults apply); the request carries a fresh Idempotency-Key, and a retry of the same submit
// (a double click, a network retry) reuses it, so one submit is one session.
import { api } from './api.js';
import { h, notice, replace } from './dom.js';

function field(id, label, input, help) {
  input.id = id;
  input.name = id;
  if (help) input.setAttribute('aria-describedby', `${id}-help`);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    input,
    help ? h('p', { id: `${id}-help`, class: 'help' }, help) : null,
  );
}

const text = (props = {}) => h('input', { type: 'text', autocomplete: 'off', ...props });
const number = (props = {}) => h('input', { type: 'number', step: 1, inputmode: 'numeric', ...props });

/** `key=value` lines -> labels; undefined when a line is not one. */
export function parseLabels(textValue) {
  const labels = {};
  for (const line of textValue
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const at = line.indexOf('=');
    if (at <= 0) return undefined;
    labels[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return labels;
}

export function newSessionView(main) {
  const inputs = {
    region: text({ placeholder: 'us-east1' }),
    runtime: h(
      'select',
      {},
      h('option', { value: 'chromium' }, 'chromium'),
      h('option', { value: 'rda' }, 'rda (Windows RDA)'),
    ),
    timeout: number({ min: 60, max: 86400, placeholder: '1800' }),
    keepAlive: number({ min: 0, max: 86400, placeholder: '0' }),
    width: number({ min: 100, max: 7680, placeholder: '1280' }),
    height: number({ min: 100, max: 4320, placeholder: '720' }),
    userAgent: text(),
    proxyUrl: text({ placeholder: 'http://proxy.example.com:3128' }),
    proxyUser: text(),
    proxyPassword: h('input', { type: 'password', autocomplete: 'off' }),
    profile: text({ placeholder: '01J…' }),
    labels: h('textarea', { rows: 3, placeholder: 'team=checkout\nClaim batch=2026-05' }),
    recording: h('input', { type: 'checkbox' }),
  };
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Create session');
  const form = h(
    'form',
    { class: 'card new-session', 'aria-labelledby': 'new-session-title', novalidate: true },
    h('div', { class: 'columns' }, [
      h(
        'fieldset',
        {},
        h('legend', {}, 'Where and how long'),
        field('ns-region', 'Region', inputs.region, 'Empty: us-east1.'),
        field('ns-runtime', 'Runtime', inputs.runtime),
        field('ns-timeout', 'Timeout (s)', inputs.timeout, '60–86400; empty: 1800.'),
        field('ns-keep-alive', 'Keep-alive (s)', inputs.keepAlive, '0: release when CDP disconnects.'),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Browser'),
        field('ns-width', 'Viewport width', inputs.width),
        field('ns-height', 'Viewport height', inputs.height),
        field('ns-user-agent', 'User agent', inputs.userAgent),
        field('ns-profile', 'Profile id', inputs.profile, 'Start from a saved profile (latest version).'),
      ),
    ]),
    h('div', { class: 'columns' }, [
      h(
        'fieldset',
        {},
        h('legend', {}, 'Upstream proxy'),
        field('ns-proxy-url', 'Proxy URL', inputs.proxyUrl),
        field('ns-proxy-user', 'Username', inputs.proxyUser),
        field('ns-proxy-password', 'Password', inputs.proxyPassword, 'Sent once; never shown again.'),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Labels and recording'),
        field(
          'ns-labels',
          'Labels',
          inputs.labels,
          'One key=value per line. No PHI: labels are not scrubbed.',
        ),
        h(
          'p',
          { class: 'check' },
          inputs.recording,
          h('label', { for: 'ns-recording' }, 'Record the session'),
        ),
      ),
    ]),
    submit,
    status,
  );
  inputs.recording.id = 'ns-recording';

  /** The body from the form; a string says what is wrong. */
  function body() {
    const b = {};
    const int = (input) => (input.value === '' ? undefined : Number(input.value));
    if (inputs.region.value.trim()) b.region = inputs.region.value.trim();
    if (inputs.runtime.value !== 'chromium') b.runtime_kind = inputs.runtime.value;
    if (int(inputs.timeout) !== undefined) b.timeout_seconds = int(inputs.timeout);
    if (int(inputs.keepAlive) !== undefined) b.keep_alive_seconds = int(inputs.keepAlive);
    const [w, hgt] = [int(inputs.width), int(inputs.height)];
    if ((w === undefined) !== (hgt === undefined)) return 'Give both viewport width and height, or neither.';
    if (w !== undefined) b.viewport = { width: w, height: hgt };
    if (inputs.userAgent.value.trim()) b.user_agent = inputs.userAgent.value.trim();
    if (inputs.proxyUrl.value.trim()) {
      b.proxy = { url: inputs.proxyUrl.value.trim() };
      if (inputs.proxyUser.value) b.proxy.username = inputs.proxyUser.value;
      if (inputs.proxyPassword.value) b.proxy.password = inputs.proxyPassword.value;
    }
    if (inputs.profile.value.trim()) b.profile_id = inputs.profile.value.trim();
    const labels = parseLabels(inputs.labels.value);
    if (!labels) return 'Labels are one key=value per line.';
    if (Object.keys(labels).length) b.labels = labels;
    if (inputs.recording.checked) b.recording = { enabled: true };
    return b;
  }

  let pending; // { body, key } of the last submit, reused while the body is unchanged
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const b = body();
    if (typeof b === 'string') return replace(status, notice('error', b));
    const signature = JSON.stringify(b);
    if (pending?.signature !== signature) pending = { signature, key: window.crypto.randomUUID() };
    submit.disabled = true;
    replace(status, notice('info', 'Creating…'));
    try {
      const created = await api('/v1/sessions', {
        method: 'POST',
        body: b,
        headers: { 'idempotency-key': pending.key },
      });
      location.hash = `#/sessions/${created.id}`;
    } catch (err) {
      replace(status, notice('error', err.detail));
    } finally {
      submit.disabled = false;
    }
  });

  replace(
    main,
    h('p', {}, h('a', { href: '#/sessions' }, '← All sessions')),
    h('h1', { id: 'new-session-title' }, 'New session'),
    form,
  );
  return () => {};
}
