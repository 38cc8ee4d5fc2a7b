/**
 * /v1/profiles: named, versioned storage_state. Create, list, read, append a version (optimistic
 * concurrency through If-Match / ETag), read one version (the only place storage_state is returned),
 * delete.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateProfileBody,
  CreateProfileVersionBody,
  ProfileList,
  ProfileResource,
  ProfileVersionResource,
  ProfileVersionSummary,
} from '../../core/domain/profile.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { readCursor, toPage } from '../../core/domain/cursor.ts';
import { DEFAULT_PAGE_SIZE } from '../../core/domain/pagination.schema.ts';
import { isUlid, newId } from '../../core/domain/ids.ts';
import {
  appendProfileVersion,
  deleteProfile,
  getProfileVersion,
  getWorkspaceProfile,
  insertProfile,
  listProfiles,
  type Profile,
} from '../../core/db/profiles.repository.ts';
import { appendAudit } from '../../core/db/audit.repository.ts';
import { withTransaction } from '../../core/db/database.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { storageStateTargetProblem } from '../../core/security/network-target.ts';
import { limitDefaults, workspaceLimits } from '../../core/db/workspace-settings.repository.ts';
import { beginProfileWrite, finishProfileWrite } from '../../core/profiles/profile-limits.ts';
import { HEADERS, emptyResponse, jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import {
  ETAG,
  IfMatchHeaders,
  ListProfilesQuery,
  ProfileIdParams,
  ProfileVersionParams,
} from './profile.docs.ts';
import { etag, parseIfMatch, toProfileResource, toVersionSummary } from './profile-view.ts';

const notFound = (id: string) => new ProblemError('not-found', { detail: `Profile ${id} not found` });

export type ProfilesRoutesDeps = Pick<Services, 'config' | 'db' | 'profileCipher'>;

export function profilesRoutes(services: ProfilesRoutesDeps) {
  const limitsOf = (workspaceId: string) =>
    workspaceLimits(services.db, workspaceId, limitDefaults(services.config));
  /** Another workspace's (or a deleted) profile does not exist for this caller (404, not 403). */
  async function findOwn(workspaceId: string, id: string): Promise<Profile> {
    const profile = isUlid(id) ? await getWorkspaceProfile(services.db, workspaceId, id) : undefined;
    if (!profile) throw notFound(id);
    return profile;
  }
  /** A profile is restored into sessions later: its origins meet the same rules as a session's. */
  function refuseForbiddenTargets(state: Parameters<typeof storageStateTargetProblem>[0]): void {
    const detail = storageStateTargetProblem(state, { allowPrivate: services.config.allowPrivateTargets });
    if (detail) throw new ProblemError('unprocessable-entity', { detail });
  }

  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.post(
      '/v1/profiles',
      {
        schema: routeSchema({
          operationId: 'createProfile',
          summary: 'Create a profile',
          description:
            'Stores `storage_state` as version 1 of a new profile. The name is unique among the workspace’s ' +
            'profiles (409 otherwise). Start a session from it with `profile_id` on POST /v1/sessions. ' +
            'A workspace holding its limit of profiles or of stored bytes is refused (409 ' +
            '`workspace-limit-reached`).',
          tags: ['profiles'],
          scope: 'profiles:write',
          body: CreateProfileBody,
          responses: {
            201: jsonResponse('Created: the profile at version 1.', ProfileResource, {
              Location: HEADERS.location,
              ETag: ETAG,
            }),
          },
          problems: [
            'forbidden',
            'state-conflict',
            'workspace-limit-reached',
            'payload-too-large',
            'unsupported-media-type',
            'unprocessable-entity',
          ],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'profiles:write');
        const { name, storage_state } = request.body;
        refuseForbiddenTargets(storage_state);
        const limits = await limitsOf(principal.workspaceId);
        const profile = await withTransaction(services.db, async (tx) => {
          await beginProfileWrite(tx, principal.workspaceId, limits, { newProfile: true });
          const created = await insertProfile(tx, services.profileCipher, {
            id: newId(),
            workspaceId: principal.workspaceId,
            name,
            storageState: storage_state,
            createdBy: principal.keyId,
          });
          if (created) {
            await finishProfileWrite(tx, principal.workspaceId, created.id, limits);
            await appendAudit(tx, {
              workspaceId: principal.workspaceId,
              class: 'tenant',
              actor: principal.keyId,
              action: 'profile.create',
              targetType: 'profile',
              targetId: created.id,
              detail: { version: 1 },
            });
          }
          return created;
        });
        if (!profile) {
          throw new ProblemError('state-conflict', {
            detail: `A profile named ${JSON.stringify(name)} already exists in this workspace`,
          });
        }
        void reply
          .code(201)
          .header('Location', `/v1/profiles/${profile.id}`)
          .header('ETag', etag(profile.latestVersion));
        return toProfileResource(profile);
      },
    );

    api.get(
      '/v1/profiles',
      {
        schema: routeSchema({
          operationId: 'listProfiles',
          summary: 'List profiles',
          description:
            'Cursor-paginated, sorted by id (ULID, i.e. creation time); stable across inserts. ' +
            'Items never include storage_state.',
          tags: ['profiles'],
          scope: 'profiles:read',
          querystring: ListProfilesQuery,
          responses: { 200: jsonResponse('A page of profiles.', ProfileList) },
          problems: ['validation-error', 'forbidden'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'profiles:read');
        const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
        const afterId = readCursor(cursor);
        const rows = await listProfiles(services.db, {
          workspaceId: principal.workspaceId,
          ...(afterId && { afterId }),
          limit: limit + 1,
        });
        const page = toPage(rows, limit, (p: Profile) => p.id);
        return { ...page, items: page.items.map(toProfileResource) };
      },
    );

    api.get(
      '/v1/profiles/:id',
      {
        schema: routeSchema({
          operationId: 'getProfile',
          summary: 'Get a profile',
          description: 'The profile without its storage_state; `ETag` carries latest_version.',
          tags: ['profiles'],
          scope: 'profiles:read',
          params: ProfileIdParams,
          responses: { 200: jsonResponse('The profile.', ProfileResource, { ETag: ETAG }) },
          problems: ['forbidden', 'not-found'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'profiles:read');
        const profile = await findOwn(principal.workspaceId, request.params.id);
        void reply.header('ETag', etag(profile.latestVersion));
        return toProfileResource(profile);
      },
    );

    api.post(
      '/v1/profiles/:id/versions',
      {
        schema: routeSchema({
          operationId: 'createProfileVersion',
          summary: 'Append a profile version',
          description:
            'Stores `storage_state` as the next version. Send `If-Match` with the ETag you read: if another ' +
            'writer appended first, the request is refused with 409 and nothing is overwritten. Without ' +
            'If-Match the version is appended after whatever is latest, atomically. The profile keeps its ' +
            'newest `versions_per_profile` versions (a workspace limit, default 10): appending one more deletes ' +
            'the oldest, unless a live session pinned it. Past the stored-bytes limit: 409 ' +
            '`workspace-limit-reached`.',
          tags: ['profiles'],
          scope: 'profiles:write',
          params: ProfileIdParams,
          headers: IfMatchHeaders,
          body: CreateProfileVersionBody,
          responses: {
            201: jsonResponse(
              'Created: the new version (without its storage_state).',
              ProfileVersionSummary,
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
            'payload-too-large',
            'unsupported-media-type',
            'unprocessable-entity',
          ],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'profiles:write');
        const { id } = request.params;
        refuseForbiddenTargets(request.body.storage_state);
        const expectedVersion = parseIfMatch(request.headers['if-match']);
        if (!isUlid(id)) throw notFound(id);
        const limits = await limitsOf(principal.workspaceId);
        const outcome = await withTransaction(services.db, async (tx) => {
          await beginProfileWrite(tx, principal.workspaceId, limits, { newProfile: false });
          const result = await appendProfileVersion(tx, services.profileCipher, {
            workspaceId: principal.workspaceId,
            profileId: id,
            storageState: request.body.storage_state,
            createdBy: principal.keyId,
            ...(expectedVersion !== undefined && { expectedVersion }),
          });
          if (result.kind === 'appended') {
            const pruned = await finishProfileWrite(tx, principal.workspaceId, id, limits);
            await appendAudit(tx, {
              workspaceId: principal.workspaceId,
              class: 'tenant',
              actor: principal.keyId,
              action: 'profile.version.create',
              targetType: 'profile',
              targetId: id,
              detail: {
                version: result.version.version,
                if_match: expectedVersion !== undefined,
                pruned_versions: pruned,
              },
            });
          }
          return result;
        });
        switch (outcome.kind) {
          case 'not-found':
            throw notFound(id);
          case 'conflict':
            throw new ProblemError('state-conflict', {
              detail: `Profile ${id} is at version ${outcome.latestVersion}, not ${expectedVersion}; read it again and retry with If-Match: "${outcome.latestVersion}"`,
            });
          case 'appended':
            void reply
              .code(201)
              .header('Location', `/v1/profiles/${id}/versions/${outcome.version.version}`)
              .header('ETag', etag(outcome.profile.latestVersion));
            return toVersionSummary(outcome.version);
        }
      },
    );

    api.get(
      '/v1/profiles/:id/versions/:n',
      {
        schema: routeSchema({
          operationId: 'getProfileVersion',
          summary: 'Get a profile version',
          description: 'One version including its storage_state (the only route that returns it).',
          tags: ['profiles'],
          scope: 'profiles:read',
          params: ProfileVersionParams,
          responses: { 200: jsonResponse('The version with its storage_state.', ProfileVersionResource) },
          problems: ['validation-error', 'forbidden', 'not-found'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'profiles:read');
        const { id, n } = request.params;
        const version = isUlid(id)
          ? await getProfileVersion(services.db, services.profileCipher, principal.workspaceId, id, n)
          : undefined;
        if (!version) {
          await findOwn(principal.workspaceId, id);
          throw new ProblemError('not-found', { detail: `Profile ${id} has no version ${n}` });
        }
        return { ...toVersionSummary(version), storage_state: version.storageState };
      },
    );

    api.delete(
      '/v1/profiles/:id',
      {
        schema: routeSchema({
          operationId: 'deleteProfile',
          summary: 'Delete a profile',
          description:
            'Afterwards the profile is 404 on every route and its name can be reused. Sessions already ' +
            'created from it are not affected.',
          tags: ['profiles'],
          scope: 'profiles:write',
          params: ProfileIdParams,
          responses: { 204: emptyResponse('Deleted.') },
          problems: ['forbidden', 'not-found'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'profiles:write');
        const { id } = request.params;
        if (!isUlid(id)) throw notFound(id);
        const deleted = await withTransaction(services.db, async (tx) => {
          const profile = await deleteProfile(tx, principal.workspaceId, id);
          if (profile) {
            await appendAudit(tx, {
              workspaceId: principal.workspaceId,
              class: 'tenant',
              actor: principal.keyId,
              action: 'profile.delete',
              targetType: 'profile',
              targetId: id,
              detail: { latest_version: profile.latestVersion },
            });
          }
          return profile;
        });
        if (!deleted) throw notFound(id);
        return reply.code(204).send();
      },
    );
  };
}
