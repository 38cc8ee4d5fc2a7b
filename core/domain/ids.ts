/** Identifiers: ULIDs for every resource (they sort by creation time), and the API key format. */
import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

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
