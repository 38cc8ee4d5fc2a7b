/** /v1/audit: the workspace's audit log, newest first, filterable by target, action and actor. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AuditList,
  ListAuditQuery,
  parseAuditTarget,
  type AuditItem,
} from '../../core/domain/audit.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { readCursor, toPage } from '../../core/domain/cursor.ts';
import { DEFAULT_PAGE_SIZE } from '../../core/domain/pagination.schema.ts';
import { listAudit, type AuditRecord } from '../../core/db/audit.repository.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { jsonResponse, routeSchema } from '../openapi/route-schema.ts';

function view(r: AuditRecord): AuditItem {
  return {
    id: r.id,
    at: r.at.toISOString(),
    class: r.class,
    actor: r.actor,
    action: r.action,
    target_type: r.targetType,
    target_id: r.targetId,
    detail: r.detail ?? {},
  };
}

export type AuditRoutesDeps = Pick<Services, 'db'>;

export function auditRoutes(services: AuditRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.get(
      '/v1/audit',
      {
        schema: routeSchema({
          operationId: 'listAudit',
          summary: 'Read the audit log',
          description:
            'Who did what in this workspace, newest first (sorted by id, a ULID). A cursor continues below the ' +
            'previous page, so rows written meanwhile never shift or repeat later pages; read them by starting ' +
            'again without a cursor. Filters combine: `target` (`<type>:<id>` or a bare id), `action` and `actor` ' +
            '(an API key id) match exactly. `detail` holds allowlisted fields only.',
          tags: ['audit'],
          scope: 'audit:read',
          querystring: ListAuditQuery,
          responses: { 200: jsonResponse('A page of audit entries.', AuditList) },
          problems: ['validation-error', 'forbidden'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'audit:read');
        const { limit = DEFAULT_PAGE_SIZE, cursor, target, action, actor } = request.query;
        const beforeId = readCursor(cursor);
        const parsedTarget = target === undefined ? undefined : parseAuditTarget(target);
        if (target !== undefined && !parsedTarget)
          throw new ProblemError('validation-error', { detail: 'target must be <type>:<id> or an id' });
        const rows = await listAudit(services.db, {
          workspaceId: principal.workspaceId,
          ...(beforeId && { beforeId }),
          ...(parsedTarget?.type && { targetType: parsedTarget.type }),
          ...(parsedTarget && { targetId: parsedTarget.id }),
          ...(action && { action }),
          ...(actor && { actor }),
          limit: limit + 1,
        });
        const page = toPage(rows, limit, (r) => r.id);
        return { ...page, items: page.items.map(view) };
      },
    );
  };
}
