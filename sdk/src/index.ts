/**
 * The Ventus Sessions SDK: `new VentusClient().createSession(params, { wait: true })` and a handle
 * that releases on `await using`. Playwright and Puppeteer helpers live in `./playwright` and
 * `./puppeteer`, so neither library is loaded unless asked for.
 */
export { VentusClient, type CreateSessionOptions, type VentusClientOptions } from './client.js';
export { Session, type CallOptions, type WaitOptions } from './session.js';
export { isProblem, SessionEndedError, VentusProblemError, VentusTimeoutError } from './errors.js';
export { VentusConnectionError, type RetryPolicy } from './http.js';
export type { RetryOptions } from './retry.js';
export type {
  LiveViewLink,
  CreateSessionParams,
  ListItem,
  ListPath,
  ListQuery,
  ListSessionsQuery,
  ProblemDocument,
  SessionResource,
  SessionStatus,
} from './types.js';
export type { paths, operations } from './generated/openapi.js';
