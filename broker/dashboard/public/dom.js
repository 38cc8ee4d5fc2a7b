// DOM helpers. Everything the dashboard shows is built with createElement and text nodes, never
// innerHTML: labels and other user data are rendered as text by construction (no escaping to forget).

// Title-case labels of the API's states, as the spec names them ("Released" is COMPLETED): served by
// the broker from core/domain/session-states.ts.
import { STATUS_LABELS, TERMINAL } from './states.js';

export { STATUS_LABELS, TERMINAL };

/** @typedef {string | number | Node | null | undefined | false} Child */

/**
 * An element with attributes (`on*` functions become listeners) and children (strings become text).
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element (attributes only; children are SVG elements or text). */
export function svg(tag, props = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name === 'className' ? 'class' : name, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export const STATUSES = Object.keys(STATUS_LABELS);

/** @param {string | null | undefined} status */
export function statusLabel(status) {
  return (status && STATUS_LABELS[status]) ?? status ?? '—';
}

/** A status badge: its text is the label, never a colour alone. */
export function statusBadge(status) {
  return h('span', { class: `badge badge-${String(status).toLowerCase()}` }, statusLabel(status));
}

/** A local, readable time with the ISO instant as its machine-readable value. */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return h(
    'time',
    { datetime: iso },
    d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }),
  );
}

const announcer = () => document.getElementById('announcer');

/** Tells screen-reader users about a change (polite; the same text twice is still announced). */
export function announce(message) {
  const el = announcer();
  if (!el) return;
  el.textContent = '';
  // A new text node in a later task is what makes the same message announce again.
  setTimeout(() => {
    el.textContent = message;
  }, 50);
}

/** A message box; `role=alert` for errors so they are read at once. */
export function notice(kind, ...children) {
  return h(
    'div',
    { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    ...children,
  );
}

/** Runs `render` and keeps keyboard focus on the element with the same `data-key`, if it still exists. */
export function keepFocus(container, render) {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? active.dataset.key : undefined;
  render();
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}
