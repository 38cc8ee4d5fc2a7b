/** The session resource as the API returns it: secrets (proxy password, storage_state) never included. */
import type { Session } from '../core/db/sessions.repository.ts';
import type { SessionResource } from '../core/domain/session.schema.ts';
import type { SessionTokens } from '../core/security/cdp-token.ts';
import { scrubUrl } from '../core/domain/scrubber.ts';
import { isTerminal } from '../core/domain/session-states.ts';

/** The viewer page of a session (served by the proxy at `/v/{id}`). */
export function liveViewUrl(publicUrl: string, sessionId: string, token: string): string {
  return `${publicUrl}/v/${sessionId}?token=${token}`;
}

export async function toSessionResource(
  s: Session,
  tokens: SessionTokens,
  publicUrl: string,
): Promise<SessionResource> {
  const wsBase = publicUrl.replace(/^http/, 'ws');
  const cdpToken = await tokens.cdpToken(s.workspaceId, s.id, s.createdAt);
  // An ended session has nothing to show: no viewer link (a terminal session's token is refused anyway).
  const viewToken = isTerminal(s.status) ? undefined : await tokens.liveViewToken(s.workspaceId, s.id);
  const proxy = s.config.proxy;
  return {
    id: s.id,
    status: s.status,
    region: s.region,
    runtime_kind: s.runtimeKind,
    created_at: s.createdAt.toISOString(),
    started_at: s.startedAt?.toISOString() ?? null,
    expires_at: s.expiresAt.toISOString(),
    released_at: s.releasedAt?.toISOString() ?? null,
    release_reason: s.releaseReason,
    error: s.error,
    connect_url: `${wsBase}/v1/sessions/${s.id}/cdp?token=${cdpToken}`,
    // Read-only, 5 minutes to open (proxy/live-view.proxy.ts); POST …/live-view for an interactive one.
    live_view_url: viewToken ? liveViewUrl(publicUrl, s.id, viewToken) : null,
    timeout_seconds: s.timeoutSeconds,
    keep_alive_seconds: s.keepAliveSeconds,
    viewport: s.config.viewport ?? null,
    user_agent: s.config.user_agent ?? null,
    proxy: proxy ? { url: scrubUrl(proxy.url), username: proxy.username ?? null } : null,
    profile_id: s.config.profile_id ?? null,
    profile_version: s.config.profile_version ?? null,
    restored_state: s.restoredState,
    labels: s.labels,
    recording: { enabled: s.config.recording?.enabled ?? false },
  };
}
