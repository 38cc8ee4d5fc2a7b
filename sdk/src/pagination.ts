/** Async iteration over cursor-paginated lists. */

export interface CursorPage<T> {
  items: T[];
  next_cursor: string | null;
  has_more: boolean;
}

/**
 * Yields every item of every page, fetching the next page only when the previous one is consumed.
 * The service orders lists by ULID and its cursor means "after this id", so rows inserted while
 * iterating never shift a page: nothing is visited twice or skipped.
 */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<CursorPage<T>>,
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (!page.has_more || !page.next_cursor) return;
    cursor = page.next_cursor;
  }
}
