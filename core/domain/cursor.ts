/**
 * Opaque pagination cursors: base64url JSON naming the last id of the previous page. Lists sort by
 * ULID (time-ordered), so a cursor stays valid and stable while new items are inserted.
 */
import { isUlid } from './ids.ts';
import { ProblemError } from './problems.ts';

export function encodeCursor(afterId: string): string {
  return Buffer.from(JSON.stringify({ after: afterId })).toString('base64url');
}

/**
 * The id to continue after, or undefined when the cursor is not one of ours. `isPosition` says what a
 * position of this list looks like (a ULID for most lists; a pool name, a transition's serial number).
 */
export function decodeCursor(
  cursor: string,
  isPosition: (position: string) => boolean = isUlid,
): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    return typeof parsed.after === 'string' && isPosition(parsed.after) ? parsed.after : undefined;
  } catch {
    return undefined;
  }
}

/** The position a request's cursor names (undefined: from the start); a foreign cursor is a 400. */
export function readCursor(
  cursor: string | undefined,
  isPosition: (position: string) => boolean = isUlid,
): string | undefined {
  if (cursor === undefined) return undefined;
  const position = decodeCursor(cursor, isPosition);
  if (!position) throw new ProblemError('validation-error', { detail: 'cursor is not valid' });
  return position;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  has_more: boolean;
}

/** Builds a page from `limit + 1` fetched rows (the extra row only tells whether there is more). */
export function toPage<T>(rows: T[], limit: number, idOf: (row: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  const last = items.at(-1);
  return { items, next_cursor: hasMore && last ? encodeCursor(idOf(last)) : null, has_more: hasMore };
}
