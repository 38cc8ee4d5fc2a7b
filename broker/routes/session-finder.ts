/** Loading a session as the caller may see it, and rendering it. */
import { isUlid } from '../../core/domain/ids.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { getSession, getWorkspaceSession, type Session } from '../../core/db/sessions.repository.ts';
import type { Services } from '../../core/services.ts';
import { toSessionResource } from '../session-view.ts';

/** Postgres to load the session, the signing keys and public URL to render its `connect_url`. */
export type SessionFinderDeps = Pick<Services, 'config' | 'db' | 'tokens'>;

export function sessionFinder(services: SessionFinderDeps) {
  const notFound = (id: string) => new ProblemError('not-found', { detail: `Session ${id} not found` });
  return {
    view: (s: Session) => toSessionResource(s, services.tokens, services.config.publicUrl),
    /** Another workspace's session does not exist for this caller (404, not 403). */
    findOwn: async (workspaceId: string, id: string): Promise<Session> => {
      const session = isUlid(id) ? await getWorkspaceSession(services.db, workspaceId, id) : undefined;
      if (!session) throw notFound(id);
      return session;
    },
    /** The operator surface reaches every workspace. */
    findAny: async (id: string): Promise<Session> => {
      const session = isUlid(id) ? await getSession(services.db, id) : undefined;
      if (!session) throw notFound(id);
      return session;
    },
  };
}
