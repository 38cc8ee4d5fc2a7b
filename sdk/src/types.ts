/** Public types, all derived from the generated OpenAPI types (src/generated/openapi.d.ts). */
import type { operations, paths } from './generated/openapi.js';

type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;

/** A session as the API returns it. */
export type SessionResource = Json<operations['getSession']['responses'][200]>;
export type SessionStatus = SessionResource['status'];
/** The body of `POST /v1/sessions`; every field is optional. */
export type CreateSessionParams = Json<operations['createSession']['requestBody']>;
/** Filters of `GET /v1/sessions` (the SDK handles `cursor`). */
export type ListSessionsQuery = Omit<
  NonNullable<operations['listSessions']['parameters']['query']>,
  'cursor'
>;

/** A viewer link (`POST /v1/sessions/{id}/live-view`): `live_view_url`, `interactive`, `expires_at`. */
export type LiveViewLink = Json<operations['createLiveViewLink']['responses'][200]>;

/** An RFC 7807 problem document, as every error response carries it. */
export type ProblemDocument =
  operations['createSession']['responses'][503]['content']['application/problem+json'];

interface CursorPage {
  items: unknown[];
  next_cursor: string | null;
  has_more: boolean;
}
type GetOf<P extends keyof paths> = paths[P] extends { get: infer G } ? G : never;
type PageOf<P extends keyof paths> = GetOf<P> extends { responses: { 200: infer R } } ? Json<R> : never;

/** Every path whose GET answers a cursor page (`items`, `next_cursor`, `has_more`) and needs no path parameter. */
export type ListPath = {
  [P in keyof paths]: PageOf<P> extends CursorPage
    ? GetOf<P> extends { parameters: { path?: never } }
      ? P
      : never
    : never;
}[keyof paths];

/** One item of the list at `P`. */
export type ListItem<P extends ListPath> = PageOf<P> extends { items: (infer I)[] } ? I : never;

/** The filters of the list at `P`, without `cursor`. */
export type ListQuery<P extends ListPath> =
  GetOf<P> extends { parameters: { query?: infer Q } } ? Omit<NonNullable<Q>, 'cursor'> : never;
