/**
 * POST /v1/sessions/{id}/profile-snapshot: "profiles that learn". The broker asks the session's pod
 * (its agent's control URL, from the pod record in Redis) for the browser's storage_state now and
 * stores it as the next version of a profile (optimistic concurrency, as POST /v1/profiles/{id}/versions)
 * or as version 1 of a new one. The response carries counts, never values.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ProfileSnapshotBody,
  ProfileSnapshotResource,
  type ProfileSnapshotBody as SnapshotBody,
} from '../../core/domain/profile.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { newId } from '../../core/domain/ids.ts';
import type { RestoredState } from '../../core/domain/session.schema.ts';
import {
  appendProfileVersion,
  insertProfile,
  type AppendOutcome,
  type StorageState,
} from '../../core/db/profiles.repository.ts';
import type { Session } from '../../core/db/sessions.repository.ts';
import type { ApiKeyPrincipal } from '../../core/db/workspaces.repository.ts';
import { appendAudit } from '../../core/db/audit.repository.ts';
import { withTransaction } from '../../core/db/database.ts';
import { limitDefaults, workspaceLimits } from '../../core/db/workspace-settings.repository.ts';
import { beginProfileWrite, finishProfileWrite } from '../../core/profiles/profile-limits.ts';
import { fetchStorageState } from '../../core/runtime/pod-control.client.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { HEADERS, jsonResponse, routeSchema, type ResponseHeader } from '../openapi/route-schema.ts';
import { SessionIdParams } from './session.docs.ts';
import { sessionFinder, type SessionFinderDeps } from './session-finder.ts';

const ETAG: ResponseHeader = {
  description:
    "The profile's latest_version, quoted (what If-Match on POST /v1/profiles/{id}/versions takes).",
  schema: Type.String({ pattern: '^"[0-9]+"$' }),
};

/** Which profile the snapshot goes to; one of profile_id or name, exactly. */
function target(body: SnapshotBody): { profileId: string; expected?: number } | { name: string } {
  const { profile_id: profileId, name, expected_version: expected } = body;
  if ((profileId === undefined) === (name === undefined)) {
    throw new ProblemError('unprocessable-entity', {
      detail: 'Send profile_id (append a version) or name (create a profile), exactly one of them',
    });
  }
  if (name !== undefined) {
    if (expected !== undefined) {
      throw new ProblemError('unprocessable-entity', { detail: 'expected_version requires profile_id' });
    }
    return { name };
  }
  return { profileId: profileId!, ...(expected !== undefined && { expected }) };
}

function countsOf(state: StorageState): RestoredState {
  return {
    cookies: state.cookies?.length ?? 0,
    origins: (state.origins ?? []).map((o) => ({
      origin: o.origin,
      local_storage_items: o.localStorage.length,
    })),
  };
}

/** The session's pod (its record and the agent's key) to capture from; Postgres and the cipher to save. */
export type ProfileSnapshotRoutesDeps = SessionFinderDeps &
  Pick<Services, 'agentAccess' | 'log' | 'podRecords' | 'profileCipher'>;

export function profileSnapshotRoutes(services: ProfileSnapshotRoutesDeps) {
  const { findOwn } = sessionFinder(services);

  /** The browser's storage_state, read from the session's pod (only a RUNNING session has one). */
  async function capture(session: Session): Promise<StorageState> {
    if (session.status !== 'RUNNING') {
      throw new ProblemError('state-conflict', {
        detail: `Session ${session.id} is ${session.status}; only a RUNNING session can be snapshotted`,
      });
    }
    const pod = session.podId ? await services.podRecords.getPod(session.podId) : undefined;
    if (!pod) {
      throw new ProblemError('service-unavailable', {
        retryAfter: 1,
        detail: `The browser of session ${session.id} cannot be reached`,
      });
    }
    try {
      return await fetchStorageState(services.agentAccess, pod);
    } catch (err) {
      services.log.warn({ err, sessionId: session.id }, 'capturing storage state failed');
      throw new ProblemError('service-unavailable', {
        retryAfter: 1,
        detail: `The browser of session ${session.id} did not answer; retry`,
      });
    }
  }

  async function store(
    principal: ApiKeyPrincipal,
    session: Session,
    body: SnapshotBody,
    state: StorageState,
  ): Promise<AppendOutcome | { kind: 'name-taken' }> {
    const to = target(body);
    const limits = await workspaceLimits(services.db, principal.workspaceId, limitDefaults(services.config));
    return withTransaction(services.db, async (tx) => {
      await beginProfileWrite(tx, principal.workspaceId, limits, { newProfile: 'name' in to });
      let outcome: AppendOutcome | { kind: 'name-taken' };
      if ('name' in to) {
        const profileId = newId();
        const profile = await insertProfile(tx, services.profileCipher, {
          id: profileId,
          workspaceId: principal.workspaceId,
          name: to.name,
          storageState: state,
          createdBy: principal.keyId,
        });
        outcome = profile
          ? {
              kind: 'appended',
              profile,
              version: {
                profileId,
                version: 1,
                storageState: state,
                createdBy: principal.keyId,
                createdAt: profile.createdAt,
              },
            }
          : { kind: 'name-taken' };
      } else {
        outcome = await appendProfileVersion(tx, services.profileCipher, {
          workspaceId: principal.workspaceId,
          profileId: to.profileId,
          storageState: state,
          createdBy: principal.keyId,
          ...(to.expected !== undefined && { expectedVersion: to.expected }),
        });
      }
      if (outcome.kind === 'appended') {
        await finishProfileWrite(tx, principal.workspaceId, outcome.profile.id, limits);
        await appendAudit(tx, {
          workspaceId: principal.workspaceId,
          class: 'tenant',
          actor: principal.keyId,
          action: 'profile.snapshot',
          targetType: 'profile',
          targetId: outcome.profile.id,
          detail: { version: outcome.version.version, session_id: session.id, new_profile: 'name' in to },
        });
      }
      return outcome;
    });
  }

  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.post(
      '/v1/sessions/:id/profile-snapshot',
      {
        schema: routeSchema({
          operationId: 'snapshotSessionProfile',
          summary: "Save a session's storage state as a profile version",
          description:
            'Captures the RUNNING session’s cookies and localStorage (of the origins its pages show and the ' +
            'ones restored at start) and stores them as the next version of `profile_id` or as version 1 of ' +
            'a new profile named `name`. With `expected_version`, a concurrent append makes this a 409 and ' +
            'nothing is overwritten. The answer holds counts, never values. Also requires `profiles:write`.',
          tags: ['sessions', 'profiles'],
          scope: 'sessions:write',
          params: SessionIdParams,
          body: ProfileSnapshotBody,
          responses: {
            201: jsonResponse(
              'Created: the new version (counts of what it holds).',
              ProfileSnapshotResource,
              {
                Location: HEADERS.location,
                ETag: ETAG,
              },
            ),
          },
          problems: [
            'forbidden',
            'not-found',
            'state-conflict',
            'workspace-limit-reached',
            'unprocessable-entity',
            'service-unavailable',
          ],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'sessions:write');
        requireScope(request, 'profiles:write');
        const session = await findOwn(principal.workspaceId, request.params.id);
        target(request.body); // a malformed body is refused before the browser is asked
        const state = await capture(session);
        const outcome = await store(principal, session, request.body, state);
        switch (outcome.kind) {
          case 'name-taken':
            throw new ProblemError('state-conflict', {
              detail: `A profile named ${JSON.stringify(request.body.name)} already exists in this workspace`,
            });
          case 'not-found':
            throw new ProblemError('unprocessable-entity', {
              detail: `Unknown profile_id '${request.body.profile_id}': no such profile in this workspace`,
            });
          case 'conflict':
            throw new ProblemError('state-conflict', {
              detail: `Profile ${request.body.profile_id} is at version ${outcome.latestVersion}, not ${request.body.expected_version}; nothing was stored`,
            });
          case 'appended': {
            const { profile, version } = outcome;
            void reply
              .code(201)
              .header('Location', `/v1/profiles/${profile.id}/versions/${version.version}`)
              .header('ETag', `"${profile.latestVersion}"`);
            return {
              profile_id: profile.id,
              version: version.version,
              created_at: version.createdAt.toISOString(),
              captured: countsOf(state),
            };
          }
        }
      },
    );
  };
}
