// The dashboard shell: sign-in, navigation and a hash router (#/sessions, #/sessions/new,
// #/sessions/<id>, #/workspace, #/keys, #/pools).
// Each view renders into <main> and returns a cleanup function that stops its polling.
import { api, ApiProblem, forgetKey, setUnauthorizedHandler, storedKey, storeKey } from './api.js';
import { h, notice, replace } from './dom.js';
import { sessionsView } from './sessions.js';
import { sessionView } from './session.js';
import { poolsView } from './pools.js';
import { workspacesView } from './workspaces.js';
import { newSessionView } from './session-new.js';
import { keysView } from './keys.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const navPools = document.getElementById('nav-pools');
const navKeys = document.getElementById('nav-keys');

/** What the signed-in key may do; learned by asking the API, never from the key itself. */
const principal = { operator: false, keysAdmin: false };
let cleanup = () => {};
let signInMessage = '';

function focusMain(heading) {
  // Moving focus to the new page's heading tells keyboard and screen-reader users the page changed.
  const target = heading ?? main.querySelector('h1');
  if (target) {
    target.setAttribute('tabindex', '-1');
    target.focus();
  }
}

function signInView() {
  nav.hidden = true;
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'api-key-help',
  });
  const status = h('div', { id: 'sign-in-status' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card sign-in', 'aria-labelledby': 'sign-in-title', novalidate: true },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h(
      'p',
      { id: 'api-key-help', class: 'help' },
      'A workspace API key (vs_…). It is kept in this tab only and sent as the Authorization header.',
    ),
    button,
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      replace(status, notice('error', 'Enter an API key.'));
      input.focus();
      return;
    }
    button.disabled = true;
    replace(status, notice('info', 'Checking the key…'));
    try {
      await api('/v1/sessions?limit=1', { key });
    } catch (err) {
      // 403: a valid key without sessions:read (an audit-only key, say) may still sign in.
      if (!(err instanceof ApiProblem) || err.status !== 403) {
        button.disabled = false;
        replace(status, notice('error', err.status === 401 ? 'That API key was not accepted.' : err.message));
        input.focus();
        return;
      }
    }
    storeKey(key);
    input.value = '';
    await learnScopes();
    if (!location.hash || location.hash === '#/' || location.hash === '#/sign-in')
      location.hash = '#/sessions';
    else route();
  });
  replace(main, form, signInMessage ? notice('error', signInMessage) : null);
  signInMessage = '';
  input.focus();
  return () => {};
}

/** Whether the key may call `path` (a 403 says no). */
async function may(path) {
  try {
    await api(path);
    return true;
  } catch {
    return false;
  }
}

async function learnScopes() {
  [principal.operator, principal.keysAdmin] = await Promise.all([
    may('/v1/pools?limit=1'),
    may('/v1/keys?limit=1'),
  ]);
  navPools.hidden = !principal.operator;
  navKeys.hidden = !principal.keysAdmin;
}

function signOut(message = '') {
  forgetKey();
  principal.operator = false;
  principal.keysAdmin = false;
  signInMessage = message;
  location.hash = '#/sign-in';
  route();
}

function markCurrent(name) {
  for (const link of nav.querySelectorAll('a[data-nav]')) {
    if (link.dataset.nav === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function route() {
  cleanup();
  cleanup = () => {};
  if (!storedKey()) {
    cleanup = signInView();
    return;
  }
  nav.hidden = false;
  const hash = location.hash.replace(/^#/, '') || '/sessions';
  const session = /^\/sessions\/([0-9A-Za-z]{1,64})$/.exec(hash);
  let view;
  if (hash === '/sessions/new') {
    markCurrent('sessions');
    view = newSessionView(main);
  } else if (session) {
    markCurrent('sessions');
    view = sessionView(main, session[1]);
  } else if (hash === '/workspace') {
    markCurrent('workspace');
    view = workspacesView(main, principal);
  } else if (hash === '/keys') {
    markCurrent('keys');
    view = keysView(main, principal);
  } else if (hash === '/pools') {
    markCurrent('pools');
    view = poolsView(main, principal);
  } else {
    markCurrent('sessions');
    view = sessionsView(main);
  }
  cleanup = view;
  focusMain();
}

setUnauthorizedHandler(() => signOut('The API key was rejected (revoked or expired). Sign in again.'));
document.getElementById('sign-out').addEventListener('click', () => signOut());
// The skip link moves focus without touching the hash, which is the router's.
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => {
  if (location.hash === '' || location.hash.startsWith('#/')) route();
});
if (storedKey()) await learnScopes();
route();
