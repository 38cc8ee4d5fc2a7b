/**
 * Workspace settings and limits. `/v1/workspace`: a key's own workspace (`sessions:read` reads it, so a
 * client can learn its limits; `keys:admin`, the owners' scope, sets recording_retention_days).
 * `/v1/workspaces`: operators list workspaces and set their limits. Every change is audited.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  PatchWorkspaceLimitsBody,
  PatchWorkspaceSettingsBody,
  WorkspaceList,
  WorkspaceResource,
} from '../../core/domain/workspace-limits.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { isUlid } from '../../core/domain/ids.ts';
import {
  getWorkspaceSettings,
  limitDefaults,
  listWorkspaceSettings,
  type WorkspaceSettings,
} from '../../core/db/workspace-settings.repository.ts';
import { changeRecordingRetention, changeWorkspaceLimits } from '../../core/workspaces/change-workspace.ts';
import type { Services } from '../../core/services.ts';
import { workspaceResource } from '../../core/workspaces/workspace-resource.ts';
import { requireScope } from '../auth.ts';
import { jsonResponse, routeSchema } from '../openapi/route-schema.ts';

const WorkspaceIdParams = Type.Object({
  id: Type.String({ description: 'Workspace id (a ULID)', examples: ['01JC1AMQX4N3PWV9MR2BCKDH7E'] }),
});

export type WorkspacesRoutesDeps = Pick<Services, 'config' | 'db'>;

export function workspacesRoutes(services: WorkspacesRoutesDeps) {
  const defaults = limitDefaults(services.config);
  const deps = { db: services.db, defaults };
  const notFound = (id: string) => new ProblemError('not-found', { detail: `Workspace ${id} not found` });
  async function find(id: string): Promise<WorkspaceSettings> {
    const ws = isUlid(id) ? await getWorkspaceSettings(services.db, id, defaults) : undefined;
    if (!ws) throw notFound(id);
    return ws;
  }

  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.get(
      '/v1/workspace',
      {
        schema: routeSchema({
          operationId: 'getWorkspace',
          summary: "Get the key's workspace",
          description:
            'The workspace this API key belongs to: its settings and the limits it runs under (the ' +
            'installation defaults unless an operator set its own), so a client can learn its quota.',
          tags: ['workspaces'],
          scope: 'sessions:read',
          responses: { 200: jsonResponse('The workspace.', WorkspaceResource) },
          problems: ['forbidden'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'sessions:read');
        return workspaceResource(await find(principal.workspaceId));
      },
    );

    api.patch(
      '/v1/workspace',
      {
        schema: routeSchema({
          operationId: 'updateWorkspace',
          summary: "Change the key's workspace settings",
          description:
            'Sets `recording_retention_days` (1–3650, default 30): how long recordings made from now on are ' +
            'kept. Recorded in the audit log (`workspace.settings.update`, with the previous value).',
          tags: ['workspaces'],
          scope: 'keys:admin',
          body: PatchWorkspaceSettingsBody,
          responses: { 200: jsonResponse('The workspace after the change.', WorkspaceResource) },
          problems: ['forbidden', 'unsupported-media-type'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'keys:admin');
        const after = await changeRecordingRetention(
          deps,
          principal.workspaceId,
          request.body.recording_retention_days,
          { id: principal.keyId, class: 'tenant' },
        );
        if (!after) throw notFound(principal.workspaceId);
        return workspaceResource(after);
      },
    );

    api.get(
      '/v1/workspaces',
      {
        schema: routeSchema({
          operationId: 'listWorkspaces',
          summary: 'List workspaces (operator)',
          description: 'Every workspace with its settings and effective limits, by name.',
          tags: ['workspaces'],
          scope: 'operator',
          responses: { 200: jsonResponse('The workspaces.', WorkspaceList) },
          problems: ['forbidden'],
        }),
      },
      async (request) => {
        requireScope(request, 'operator');
        return { data: (await listWorkspaceSettings(services.db, defaults)).map(workspaceResource) };
      },
    );

    api.get(
      '/v1/workspaces/:id',
      {
        schema: routeSchema({
          operationId: 'getWorkspaceById',
          summary: 'Get a workspace (operator)',
          tags: ['workspaces'],
          scope: 'operator',
          params: WorkspaceIdParams,
          responses: { 200: jsonResponse('The workspace.', WorkspaceResource) },
          problems: ['forbidden', 'not-found'],
        }),
      },
      async (request) => {
        requireScope(request, 'operator');
        return workspaceResource(await find(request.params.id));
      },
    );

    api.patch(
      '/v1/workspaces/:id/limits',
      {
        schema: routeSchema({
          operationId: 'updateWorkspaceLimits',
          summary: "Set a workspace's limits (operator)",
          description:
            'Sets any of the limits; `null` restores the installation default. Takes effect at once: new ' +
            'creates, keep-alives, profile writes and socket opens are checked against the new values; ' +
            'nothing already running is ended. Recorded in the audit log as an admin action ' +
            '(`workspace.limits.update`).',
          tags: ['workspaces'],
          scope: 'operator',
          params: WorkspaceIdParams,
          body: PatchWorkspaceLimitsBody,
          responses: { 200: jsonResponse('The workspace after the change.', WorkspaceResource) },
          problems: ['forbidden', 'not-found', 'unsupported-media-type'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'operator');
        await find(request.params.id);
        const after = await changeWorkspaceLimits(deps, request.params.id, request.body, {
          id: principal.keyId,
          class: 'admin',
        });
        if (!after) throw notFound(request.params.id);
        request.log.info({ workspace: after.id, actor: principal.keyId }, 'workspace limits changed');
        return workspaceResource(after);
      },
    );
  };
}
