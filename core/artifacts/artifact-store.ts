/**
 * Where recordings (and, later, other per-session artifacts) are kept: a key-value store of
 * immutable blobs. `LocalArtifactStore` (a directory) is the default; a production deployment with
 * more than one host needs a shared one, e.g. an S3-compatible bucket (see docs/architecture.md for
 * what such an implementation must do). Keys are `/`-separated, `[A-Za-z0-9._-]` segments.
 */
import type { Readable } from 'node:stream';

export interface ArtifactInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface StoredArtifact {
  /** The whole artifact, or only the bytes of the range asked for. */
  body: Readable;
  /** The whole artifact's size, whatever the range. */
  size: number;
  contentType: string;
}

/** Bytes `start` to `end`, both inclusive (as in an HTTP Range header). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ArtifactStore {
  /** Stores `body` under `key` atomically (readers never see a partial artifact); resolves with its size. */
  put(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    contentType: string,
  ): Promise<{ size: number }>;
  /**
   * The artifact (or, with `range`, only those bytes; the caller checked them against its size), or
   * undefined when there is none. The caller must consume or destroy `body`.
   */
  get(key: string, range?: ByteRange): Promise<StoredArtifact | undefined>;
  /** The artifact's size, without opening it; undefined when there is none. */
  size(key: string): Promise<number | undefined>;
  /** Deletes the artifact; deleting a missing key resolves (idempotent). */
  delete(key: string): Promise<void>;
  /** Every artifact whose key starts with `prefix`. */
  list(prefix: string): Promise<ArtifactInfo[]>;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws unless `key` is safe as a path or object name (no `..`, no empty or hidden segment). */
export function assertArtifactKey(key: string): void {
  const parts = key.split('/');
  if (key.length > 512 || parts.some((p) => !SEGMENT.test(p) || p.includes('..'))) {
    throw new Error(`invalid artifact key ${JSON.stringify(key)}`);
  }
}

/** Where a session's recording is stored. */
export const recordingKey = (workspaceId: string, sessionId: string) =>
  `recordings/${workspaceId}/${sessionId}.webm`;
