/**
 * Encryption at rest of profile storage_state (and of a session's inline secrets while it waits for
 * its pod): AES-256-GCM, a fresh 96-bit IV per value, the key id stored beside the ciphertext so
 * values written under an older key stay readable after a rotation. The additional authenticated
 * data binds a ciphertext to its row (profile id and version, or session id): a sealed value copied
 * to another row does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ProfileKey } from '../config/config.ts';

/** What a profile_versions.storage_state column holds for an encrypted version. */
export interface SealedState {
  alg: 'A256GCM';
  kid: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** True for a sealed value; false for a plaintext storage_state written before encryption shipped. */
export function isSealed(stored: unknown): stored is SealedState {
  return (
    typeof stored === 'object' &&
    stored !== null &&
    (stored as Record<string, unknown>).alg === 'A256GCM' &&
    typeof (stored as Record<string, unknown>).ciphertext === 'string'
  );
}

const profileAad = (profileId: string, version: number) => `profile_versions:${profileId}:${version}`;
const sessionAad = (sessionId: string) => `sessions.config:${sessionId}`;

export class ProfileCipher {
  private readonly byKid: Map<string, Buffer>;

  /**
   * @param current encrypts every new version.
   * @param readable every other key that may have sealed an existing version (decrypt only).
   */
  constructor(
    private readonly current: ProfileKey,
    readable: ProfileKey[] = [],
  ) {
    this.byKid = new Map([...readable, current].map((k) => [k.kid, k.key]));
  }

  get currentKid(): string {
    return this.current.kid;
  }

  seal(value: unknown, profileId: string, version: number): SealedState {
    return this.sealFor(value, profileAad(profileId, version));
  }

  /** The plaintext of a profile version's stored value; a legacy plaintext value passes through. */
  open<T>(stored: unknown, profileId: string, version: number): T {
    return this.openFor<T>(stored, profileAad(profileId, version), `profile ${profileId} version ${version}`);
  }

  /** Seals a session's inline secrets (storage_state, proxy password) for its config row. */
  sealSession(value: unknown, sessionId: string): SealedState {
    return this.sealFor(value, sessionAad(sessionId));
  }

  openSession<T>(stored: SealedState, sessionId: string): T {
    return this.openFor<T>(stored, sessionAad(sessionId), `session ${sessionId}'s secrets`);
  }

  private sealFor(value: unknown, context: string): SealedState {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return {
      alg: 'A256GCM',
      kid: this.current.kid,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

  private openFor<T>(stored: unknown, context: string, what: string): T {
    if (!isSealed(stored)) return stored as T;
    const key = this.byKid.get(stored.kid);
    if (!key) {
      throw new Error(
        `${what} is sealed with key id ${JSON.stringify(stored.kid)}, ` +
          'which VENTUS_PROFILE_KEYS does not hold',
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
    const plain = Buffer.concat([
      decipher.update(Buffer.from(stored.ciphertext, 'base64')),
      decipher.final(),
    ]);
    return JSON.parse(plain.toString('utf8')) as T;
  }
}

/** `kid:base64key`, the settings-table form of a generated key. */
export function formatProfileKey(key: ProfileKey): string {
  return `${key.kid}:${key.key.toString('base64')}`;
}

export function parseProfileKey(value: string): ProfileKey {
  const [kid = '', encoded = ''] = value.split(':');
  return { kid, key: Buffer.from(encoded, 'base64') };
}
