/**
 * Token and secret redaction for logs and events: one implementation of the spec's key allowlist.
 * This is not content (PHI) scrubbing: it removes known secret-bearing keys and URL tokens only.
 */

/** Keys whose values never leave the process in logs or events (matched case-insensitively). */
export const SECRET_KEYS = [
  'authorization',
  'cookie',
  'cookies',
  'set-cookie',
  'token',
  'secret',
  'password',
  'api_key',
  'apikey',
  'connect_url',
  'live_view_url',
  'recording_url',
  'vnc_password',
  'storage_state',
  'localstorage',
  'jwt_secret',
  'profile_keys',
  'x-api-key',
] as const;

/** Keys compared without case, `_` or `-`: `storage_state`, `storageState` and `StorageState` alike. */
const normalize = (key: string) => key.toLowerCase().replace(/[_-]/g, '');
const SECRET_SET = new Set<string>(SECRET_KEYS.map(normalize));
export const REDACTED = '[REDACTED]';

function isSecretKey(key: string): boolean {
  const k = normalize(key);
  return SECRET_SET.has(k) || k.endsWith('token') || k.endsWith('secret') || k.endsWith('password');
}

/** Removes `token=` (and similar) query values and userinfo from URLs inside a string. */
export function scrubUrl(text: string): string {
  return text
    .replace(/([?&](?:token|access_token|api_key|key|signature|sig)=)[^&#\s"]*/gi, `$1${REDACTED}`)
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]*:[^/\s@]*@/gi, `$1${REDACTED}@`)
    .replace(/\bvs_[0-9A-Z]{26}\.[A-Za-z0-9]{32}\b/g, REDACTED);
}

/** A deep copy of `value` with secret keys redacted and tokens removed from strings. */
export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 12) return REDACTED;
  if (typeof value === 'string') return scrubUrl(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: scrubUrl(value.message) };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value))
      out[key] = isSecretKey(key) ? REDACTED : scrub(v, depth + 1);
    return out;
  }
  return value;
}
