/** API key scopes. A key sees only its own workspace; scopes narrow what it may do there. */
export const SCOPES = [
  'sessions:read',
  'sessions:write',
  'profiles:read',
  'profiles:write',
  'audit:read',
  'keys:admin',
  /** The platform operator surface: force-stop in any workspace, pool settings. Implies every scope. */
  'operator',
] as const;
export type Scope = (typeof SCOPES)[number];

export const DEFAULT_SCOPES: readonly Scope[] = [
  'sessions:read',
  'sessions:write',
  'profiles:read',
  'profiles:write',
];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Whether a key holding `held` may use a route that requires `required`. */
export function hasScope(held: readonly Scope[], required: Scope): boolean {
  return held.includes(required) || held.includes('operator');
}
