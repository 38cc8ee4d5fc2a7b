// The dashboard's API client: the same Bearer key and JSON as any other client. The key lives in
// sessionStorage (gone when the tab closes), travels only in the Authorization header, and is never
// written into the page or a URL.

const STORAGE_KEY = 'ventus.dashboard.apiKey';

export function storedKey() {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeKey(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** An RFC 7807 problem answered by the API (or a network failure, as status 0). */
export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.type = problem?.type ?? '';
    this.title = problem?.title ?? '';
    this.detail = problem?.detail ?? this.message;
  }
}

/** Called when the key is rejected (401), so the app can sign out. */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * Calls the API with the stored key.
 * @param {string} path e.g. "/v1/sessions?limit=20"
 * @param {{ method?: string, body?: unknown, headers?: Record<string, string>, key?: string }} [options]
 */
export async function api(path, options = {}) {
  const key = options.key ?? storedKey();
  const headers = { accept: 'application/json', ...options.headers };
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiProblem(0, { title: 'Network error', detail: 'The service did not answer; retrying.' });
  }
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    if (res.status === 401 && options.key === undefined) onUnauthorized();
    throw new ApiProblem(res.status, body);
  }
  return body;
}

/** Builds a query string from defined values only. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (Array.isArray(value)) for (const v of value) q.append(name, String(v));
    else if (value !== undefined && value !== null && value !== '') q.set(name, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Runs `fn` now and every `ms` after the previous run ends (never overlapping), skipping while the
 * tab is hidden. Returns the stop function.
 */
export function every(ms, fn) {
  let stopped = false;
  let timer;
  const run = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try {
        await fn();
      } catch {
        // The view shows its own errors; the loop keeps going.
      }
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
