/**
 * Encryption at rest of profile storage_state: AES-256-GCM, a fresh 96-bit IV per version, the key
 * id stored beside the ciphertext so versions written under an older key stay readable after a
 * rotation. The additional authenticated data binds a ciphertext to its row (profile id and
 * version): a sealed value copied to another row does not decrypt.
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

const aad = (profileId: string, version: number) => Buffer.from(`profile_versions:${profileId}:${version}`);

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
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(aad(profileId, version));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return {
      alg: 'A256GCM',
      kid: this.current.kid,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

  /** The stored value's plaintext; a legacy plaintext value passes through unchanged. */
  open<T>(stored: unknown, profileId: string, version: number): T {
    if (!isSealed(stored)) return stored as T;
    const key = this.byKid.get(stored.kid);
    if (!key) {
      throw new Error(
        `profile ${profileId} version ${version} is sealed with key id ${JSON.stringify(stored.kid)}, ` +
          'which VENTUS_PROFILE_KEYS does not hold',
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'));
    decipher.setAAD(aad(profileId, version));
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
