/** /v1/members: the people of a workspace and their roles; the last owner cannot be demoted or removed. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateMemberBody,
  ListMembersQuery,
  MemberIdParams,
  MemberList,
  MemberResource,
  UpdateMemberBody,
} from '../../core/domain/member.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { readCursor, toPage } from '../../core/domain/cursor.ts';
import { DEFAULT_PAGE_SIZE } from '../../core/domain/pagination.schema.ts';
import { isUlid } from '../../core/domain/ids.ts';
import { hasScope } from '../../core/domain/scopes.ts';
import type { ApiKeyPrincipal } from '../../core/db/workspaces.repository.ts';
import {
  deleteMember,
  insertMember,
  listMembers,
  lockMemberForChange,
  setMemberRole,
  type LockedMember,
  type Member,
} from '../../core/db/members.repository.ts';
import { appendAudit, type AuditEntry } from '../../core/db/audit.repository.ts';
import { withTransaction, type Queryable } from '../../core/db/database.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { emptyResponse, HEADERS, jsonResponse, routeSchema } from '../openapi/route-schema.ts';

const READ_SCOPES = 'Requires scope `keys:admin` or `audit:read` (auditors may see who has access).';

function view(m: Member): MemberResource {
  return { id: m.id, email: m.email, role: m.role, created_at: m.createdAt.toISOString() };
}

/** Reads are open to key admins and auditors alike. */
function requireReader(request: FastifyRequest): ApiKeyPrincipal {
  const principal = request.principal;
  if (!principal) throw new ProblemError('unauthorized');
  if (!hasScope(principal.scopes, 'keys:admin') && !hasScope(principal.scopes, 'audit:read'))
    throw new ProblemError('forbidden', {
      detail: "This API key lacks the 'keys:admin' or 'audit:read' scope",
    });
  return principal;
}

function memberAudit(
  principal: ApiKeyPrincipal,
  action: string,
  memberId: string,
  detail: NonNullable<AuditEntry['detail']>,
): AuditEntry {
  // The email stays out of the append-only log (it is personal data); the member id identifies the row.
  return {
    workspaceId: principal.workspaceId,
    class: 'tenant',
    actor: principal.keyId,
    action,
    targetType: 'member',
    targetId: memberId,
    detail,
  };
}

export type MembersRoutesDeps = Pick<Services, 'db'>;

export function membersRoutes(services: MembersRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    /** Locks the member (and the owners) or 404s; another workspace's member does not exist here. */
    async function lockOwn(tx: Queryable, workspaceId: string, id: string): Promise<LockedMember> {
      const locked = isUlid(id) ? await lockMemberForChange(tx, workspaceId, id) : undefined;
      if (!locked) throw new ProblemError('not-found', { detail: `Member ${id} not found` });
      return locked;
    }

    api.get(
      '/v1/members',
      {
        schema: routeSchema({
          operationId: 'listMembers',
          summary: 'List members',
          description: `Cursor-paginated, sorted by id (ULID, i.e. creation time); stable across inserts.\n\n${READ_SCOPES}`,
          tags: ['members'],
          querystring: ListMembersQuery,
          responses: { 200: jsonResponse('A page of members.', MemberList) },
          problems: ['validation-error', 'forbidden'],
        }),
      },
      async (request) => {
        const principal = requireReader(request);
        const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
        const afterId = readCursor(cursor);
        const rows = await listMembers(services.db, {
          workspaceId: principal.workspaceId,
          ...(afterId && { afterId }),
          limit: limit + 1,
        });
        const page = toPage(rows, limit, (m) => m.id);
        return { ...page, items: page.items.map(view) };
      },
    );

    api.post(
      '/v1/members',
      {
        schema: routeSchema({
          operationId: 'createMember',
          summary: 'Add a member',
          description:
            'Adds a person with a role (`owner`, `admin` or `member`). An email already in the workspace ' +
            '(compared case-insensitively) is a 409.',
          tags: ['members'],
          scope: 'keys:admin',
          body: CreateMemberBody,
          responses: {
            201: jsonResponse('The new member.', MemberResource, { Location: HEADERS.location }),
          },
          problems: ['forbidden', 'state-conflict', 'unsupported-media-type'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'keys:admin');
        const { email, role } = request.body;
        const member = await withTransaction(services.db, async (tx) => {
          const m = await insertMember(tx, { workspaceId: principal.workspaceId, email, role });
          if (!m)
            throw new ProblemError('state-conflict', {
              detail: 'A member with this email already exists in the workspace',
            });
          await appendAudit(tx, memberAudit(principal, 'member.create', m.id, { role }));
          return m;
        });
        void reply.code(201).header('Location', `/v1/members/${member.id}`);
        return view(member);
      },
    );

    api.patch(
      '/v1/members/:id',
      {
        schema: routeSchema({
          operationId: 'updateMember',
          summary: "Change a member's role",
          description:
            'Demoting the last owner of the workspace is a 409 `state-conflict`; promote another member first.',
          tags: ['members'],
          scope: 'keys:admin',
          params: MemberIdParams,
          body: UpdateMemberBody,
          responses: { 200: jsonResponse('The member with its new role.', MemberResource) },
          problems: ['forbidden', 'not-found', 'state-conflict', 'unsupported-media-type'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'keys:admin');
        const { role } = request.body;
        const updated = await withTransaction(services.db, async (tx) => {
          const { member, isLastOwner } = await lockOwn(tx, principal.workspaceId, request.params.id);
          if (isLastOwner && role !== 'owner')
            throw new ProblemError('state-conflict', {
              detail: `Member ${member.id} is the workspace's last owner and cannot be demoted; promote another member to owner first`,
            });
          const m = await setMemberRole(tx, member.id, role);
          await appendAudit(
            tx,
            memberAudit(principal, 'member.update', m.id, { role, previous_role: member.role }),
          );
          return m;
        });
        return view(updated);
      },
    );

    api.delete(
      '/v1/members/:id',
      {
        schema: routeSchema({
          operationId: 'deleteMember',
          summary: 'Remove a member',
          description:
            "Removing the workspace's last owner is a 409 `state-conflict`; promote another member first.",
          tags: ['members'],
          scope: 'keys:admin',
          params: MemberIdParams,
          responses: { 204: emptyResponse('Removed.') },
          problems: ['forbidden', 'not-found', 'state-conflict'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'keys:admin');
        await withTransaction(services.db, async (tx) => {
          const { member, isLastOwner } = await lockOwn(tx, principal.workspaceId, request.params.id);
          if (isLastOwner)
            throw new ProblemError('state-conflict', {
              detail: `Member ${member.id} is the workspace's last owner and cannot be removed; promote another member to owner first`,
            });
          await deleteMember(tx, member.id);
          await appendAudit(tx, memberAudit(principal, 'member.delete', member.id, { role: member.role }));
        });
        return reply.code(204).send();
      },
    );
  };
}
