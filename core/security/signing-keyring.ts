/**
 * The JWT signing keys one process holds: the newest current key signs, a token's `kid` picks the key
 * that verifies it. Several processes share the keys through Postgres, so each reloads them: every
 * `refreshMs` (a rotation reaches signers, a deletion reaches verifiers), and when a token names a kid
 * it does not know (a rotation made elsewhere), at most once per `unknownKidReloadMs` however many
 * such tokens arrive.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a key source returns: one key with its secret (keys whose secret is not held are left out). */
export interface KeyMaterial {
  kid: string;
  secret: string;
  /** Verifies tokens without a kid (minted before keys had ids). */
  legacy: boolean;
  createdAt: Date;
  /** Set once the key no longer signs. */
  retiredAt: Date | null;
}

export interface HeldKey extends Omit<KeyMaterial, 'secret'> {
  key: CryptoKey;
}

export interface KeyringOptions {
  /** The clock (a test double may move it). */
  now?: () => number;
  refreshMs?: number;
  unknownKidReloadMs?: number;
  /** A reload that failed: the keys held so far stay in use. */
  onReloadError?: (err: unknown) => void;
}

/** How stale a process's keys may get: a process may sign with a retired key this long after. */
export const KEY_REFRESH_MS = 60_000;
/**
 * How long after its retirement a key may still have signed something (a process that had not reloaded
 * yet, plus clock skew between hosts): the sweep and the retired-key check both allow this much.
 */
export const KEY_PROPAGATION_MS = 2 * KEY_REFRESH_MS;
const UNKNOWN_KID_RELOAD_MS = 1_000;
const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The kid of a secret kept outside Postgres (VENTUS_JWT_SECRET): a fingerprint, never the value. */
export function environmentKid(secret: string): string {
  return `env-${createHash('sha256').update(`ventus-signing-key:${secret}`).digest('hex').slice(0, 16)}`;
}

function importSecret(secret: string): Promise<CryptoKey> {
  // The secret's UTF-8 bytes, as before keys had ids: a migrated key verifies the tokens it signed then.
  return crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
}

export class SigningKeyring {
  private held = new Map<string, HeldKey>();
  /** Imported once per kid: importing again for every token (or every reload) would be waste. */
  private readonly imported = new Map<string, Promise<CryptoKey>>();
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private reloading: Promise<void> | undefined;
  private scheduled: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly unknownKidReloadMs: number;

  constructor(
    private readonly load: () => Promise<KeyMaterial[]>,
    private readonly options: KeyringOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.refreshMs = options.refreshMs ?? KEY_REFRESH_MS;
    this.unknownKidReloadMs = options.unknownKidReloadMs ?? UNKNOWN_KID_RELOAD_MS;
  }

  /** One legacy key that never changes (a process given only a secret, e.g. a unit test). */
  static fixed(secret: string): SigningKeyring {
    const key = {
      kid: environmentKid(secret),
      secret,
      legacy: true,
      createdAt: new Date(0),
      retiredAt: null,
    };
    return new SigningKeyring(async () => [key], {
      refreshMs: Number.POSITIVE_INFINITY,
      unknownKidReloadMs: 0,
    });
  }

  /** Reads the keys now; throws when the source fails (the keys held so far stay). */
  reload(): Promise<void> {
    this.reloading ??= this.readKeys().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** Starts with these keys until the first successful reload (a start while Postgres is down). */
  async hold(keys: KeyMaterial[]): Promise<void> {
    this.held = await this.importAll(keys);
  }

  /** The key new tokens are signed with: the newest one not retired. */
  async signingKey(): Promise<HeldKey> {
    await this.refreshIfStale();
    let newest: HeldKey | undefined;
    for (const k of this.held.values())
      if (k.retiredAt === null && (!newest || k.createdAt > newest.createdAt)) newest = k;
    // Only when the signing key is a VENTUS_JWT_SECRET this process does not have.
    if (!newest)
      throw new Error(
        'the signing key is a VENTUS_JWT_SECRET this process does not have: set the same value on every ' +
          'process, or run `ventus signing-keys rotate` to sign with a key kept in Postgres',
      );
    return newest;
  }

  /**
   * The key a token's header names, or undefined: a kid that is no string or not well formed, or that
   * is unknown after a reload. No kid: the newest legacy key, if one is left.
   */
  async verificationKey(kid: unknown): Promise<HeldKey | undefined> {
    await this.refreshIfStale();
    if (kid === undefined) return this.newestLegacy();
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) return undefined;
    if (!this.held.has(kid)) await this.reloadSoon();
    return this.held.get(kid);
  }

  private newestLegacy(): HeldKey | undefined {
    let newest: HeldKey | undefined;
    for (const k of this.held.values())
      if (k.legacy && (!newest || k.createdAt > newest.createdAt)) newest = k;
    return newest;
  }

  private async refreshIfStale(): Promise<void> {
    if (this.now() - this.lastAttempt < this.refreshMs) return;
    await this.reload().catch((err: unknown) => this.options.onReloadError?.(err));
  }

  /** A reload at most once per `unknownKidReloadMs`: every caller until then waits for that one. */
  private reloadSoon(): Promise<void> {
    this.scheduled ??= (async () => {
      const wait = this.lastAttempt + this.unknownKidReloadMs - this.now();
      if (wait > 0) await sleep(Math.min(wait, this.unknownKidReloadMs));
      await this.reload().catch((err: unknown) => this.options.onReloadError?.(err));
    })().finally(() => (this.scheduled = undefined));
    return this.scheduled;
  }

  private async readKeys(): Promise<void> {
    this.lastAttempt = this.now();
    this.held = await this.importAll(await this.load());
  }

  private async importAll(keys: KeyMaterial[]): Promise<Map<string, HeldKey>> {
    const held = new Map<string, HeldKey>();
    for (const { secret, ...k } of keys) {
      let key = this.imported.get(k.kid);
      if (!key) this.imported.set(k.kid, (key = importSecret(secret)));
      held.set(k.kid, { ...k, key: await key });
    }
    for (const kid of this.imported.keys()) if (!held.has(kid)) this.imported.delete(kid);
    return held;
  }
}
