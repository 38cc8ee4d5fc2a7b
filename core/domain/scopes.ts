/** API key scopes. A key sees only its own workspace; scopes narrow what it may do there. */
export const SCOPES = ['sessions:read', 'sessions:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const DEFAULT_SCOPES: readonly Scope[] = ['sessions:read', 'sessions:write'];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
