/**
 * `Prefer: wait=N` (RFC 7240 §4.3) on POST /v1/sessions: the client would rather have its answer once
 * the session is RUNNING (or ended), for at most N seconds, than at once. A preference is a hint: one
 * that cannot be read is ignored, never refused, and N is held to the wait a GET allows.
 */
import { MAX_WAIT_SECONDS } from './routes/session.docs.ts';

/** The `wait` preference in seconds (at most MAX_WAIT_SECONDS), or undefined when none is usable. */
export function preferredWaitSeconds(header: string | string[] | undefined): number | undefined {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const preference of values.flatMap((v) => v.split(','))) {
    // A preference is `token [= word] *(; parameter)`; its parameters mean nothing for `wait`.
    const [name, value] = preference
      .split(';')[0]!
      .split('=')
      .map((part) => part.trim());
    if (name?.toLowerCase() !== 'wait' || value === undefined) continue;
    const seconds = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
    return seconds > 0 ? Math.min(seconds, MAX_WAIT_SECONDS) : undefined;
  }
  return undefined;
}
