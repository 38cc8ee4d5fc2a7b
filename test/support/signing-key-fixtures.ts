/**
 * Signing-key fixtures: an installation as it was before signing keys had ids (migration 0007), the
 * tokens it handed out (no kid), and a look at a token's header.
 */
import { SignJWT, decodeProtectedHeader } from 'jose';
import type { Database } from '../../core/db/database.ts';
import { migrate } from '../../core/db/migrate.ts';

/**
 * Puts a test database back where an install left it before 0007 (one `cdp_jwt_secret` setting), then
 * migrates it as an upgrade would.
 */
export async function upgradeFromSingleSecret(db: Database, secret: string): Promise<void> {
  await db.query('DROP TABLE signing_keys');
  await db.query(`DELETE FROM schema_migrations WHERE version = '0007_signing_keys.sql'`);
  await db.query(`INSERT INTO settings (key, value) VALUES ('cdp_jwt_secret', $1)`, [secret]);
  await migrate(db);
}

/** A token as versions before 0007 minted it: HS256 over the secret's bytes, no kid. */
export function kidlessToken(
  secret: string,
  c: { ws: string; sub: string; aud: string; exp?: number },
  header: Record<string, unknown> = {},
): Promise<string> {
  const jwt = new SignJWT({ ws: c.ws })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .setIssuer('ventus-sessions')
    .setAudience(c.aud)
    .setSubject(c.sub)
    .setIssuedAt();
  if (c.exp !== undefined) jwt.setExpirationTime(c.exp);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** The `kid` in a token's header (undefined: none). */
export function kidOf(token: string): string | undefined {
  return decodeProtectedHeader(token).kid;
}

/** The secret Postgres holds for a key (what an attacker who read the table would have). */
export async function storedSecret(db: Database, kid: string): Promise<string | null | undefined> {
  const { rows } = await db.query<{ secret: string | null }>(
    'SELECT secret FROM signing_keys WHERE kid = $1',
    [kid],
  );
  return rows[0]?.secret;
}
