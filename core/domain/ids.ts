/** Identifiers: ULIDs for every resource (they sort by creation time), and the API key format. */
import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * ulid's default source asks the OS-seeded CSPRNG for one byte per character (16 calls per id); the
 * same CSPRNG bytes are taken here from a buffer refilled 4 KiB at a time. byte / 256 is what the
 * default source returns too, so every character stays uniform over the 32-letter alphabet.
 */
const pool = new Uint8Array(4096);
let next = pool.length;
function randomByteFraction(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

const ulid = monotonicFactory(randomByteFraction);

export const ULID_PATTERN = '^[0-9A-HJKMNP-TV-Z]{26}$';
const ULID_RE = new RegExp(ULID_PATTERN);

export function newId(now: number = Date.now()): string {
  return ulid(now);
}

export function isUlid(value: string): boolean {
  return ULID_RE.test(value);
}

/** `vs_<ULID>.<32 chars>`: the ULID is the key's id (looked up), the 32 chars its secret (hashed). */
const API_KEY_RE = /^vs_([0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9]{32})$/;

export interface ParsedApiKey {
  keyId: string;
  secret: string;
}

export function parseApiKey(token: string): ParsedApiKey | undefined {
  const match = API_KEY_RE.exec(token);
  if (!match) return undefined;
  return { keyId: match[1]!, secret: match[2]! };
}

export function formatApiKey(keyId: string, secret: string): string {
  return `vs_${keyId}.${secret}`;
}
