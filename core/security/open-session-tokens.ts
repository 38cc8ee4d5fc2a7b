/**
 * The session tokens of a process, over the signing keys in Postgres (core/db/signing-keys.repository.ts)
 * plus VENTUS_JWT_SECRET when it is set. That secret stays in the environment: Postgres knows only its
 * kid (a fingerprint) and its lifecycle, so a rotation can retire it and the sweep can delete it.
 */
import type { Database } from '../db/database.ts';
import { getSession } from '../db/sessions.repository.ts';
import {
  ensureSigningKey,
  listLiveSigningKeys,
  registerEnvironmentKey,
} from '../db/signing-keys.repository.ts';
import { SessionTokens } from './cdp-token.ts';
import { environmentKid, SigningKeyring, type KeyMaterial, type KeyringOptions } from './signing-keyring.ts';

/**
 * The keyring of one process. Without VENTUS_JWT_SECRET, Postgres must answer (a first key is made on a
 * fresh database). With it, a process starts on that key alone while Postgres is down, and reads the
 * shared keys once Postgres answers.
 */
export async function openSigningKeyring(
  db: Database,
  envSecret: string | undefined,
  options: KeyringOptions = {},
): Promise<SigningKeyring> {
  const envKid = envSecret === undefined ? undefined : environmentKid(envSecret);
  let prepared = false;
  const load = async (): Promise<KeyMaterial[]> => {
    if (!prepared) {
      if (envKid === undefined) await ensureSigningKey(db);
      else await registerEnvironmentKey(db, envKid);
      prepared = true;
    }
    return (await listLiveSigningKeys(db)).flatMap((k) => {
      // Another value of VENTUS_JWT_SECRET (set on some other process) is not ours to use.
      const secret = k.source === 'environment' ? (k.kid === envKid ? envSecret : null) : k.secret;
      if (!secret) return [];
      return [{ kid: k.kid, secret, legacy: k.legacy, createdAt: k.createdAt, retiredAt: k.retiredAt }];
    });
  };
  const keyring = new SigningKeyring(load, options);
  if (envKid === undefined || envSecret === undefined) {
    await keyring.reload();
    await keyring.signingKey(); // fails the start, with what to do, when none of the keys can sign
    return keyring;
  }
  await keyring.hold([
    { kid: envKid, secret: envSecret, legacy: true, createdAt: new Date(), retiredAt: null },
  ]);
  await keyring.reload().catch((err: unknown) => options.onReloadError?.(err));
  return keyring;
}

/** Session tokens over the shared keys; a retired key verifies only sessions made before it retired. */
export async function openSessionTokens(
  db: Database,
  envSecret: string | undefined,
  options: KeyringOptions = {},
): Promise<SessionTokens> {
  return new SessionTokens(await openSigningKeyring(db, envSecret, options), {
    sessionCreatedAt: async (id) => (await getSession(db, id))?.createdAt,
  });
}
