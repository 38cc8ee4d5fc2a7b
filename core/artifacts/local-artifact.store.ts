/**
 * The artifact store as a local directory: `<root>/<key>` plus `<root>/<key>.type` (its content type).
 * Writes go to a temporary name first and are renamed into place, so a reader never sees half a file
 * and a crashed writer leaves only a `.part-*` file (ignored by list, overwritten by the next put).
 * Only for one host (or a shared mount): the broker serves what the workers stored.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import {
  assertArtifactKey,
  type ArtifactInfo,
  type ArtifactStore,
  type ByteRange,
  type StoredArtifact,
} from './artifact-store.ts';

export class LocalArtifactStore implements ArtifactStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    assertArtifactKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    contentType: string,
  ): Promise<{ size: number }> {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true });
    const part = `${file}.part-${randomBytes(4).toString('hex')}`;
    try {
      await pipeline(body instanceof Readable ? body : Readable.from(body), createWriteStream(part));
      await writeFile(`${file}.type`, contentType);
      await rename(part, file);
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
    return { size: (await stat(file)).size };
  }

  async get(key: string, range?: ByteRange): Promise<StoredArtifact | undefined> {
    const file = this.path(key);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const contentType = await readFile(`${file}.type`, 'utf8').catch(() => 'application/octet-stream');
    return { body: createReadStream(file, range), size: info.size, contentType };
  }

  async size(key: string): Promise<number | undefined> {
    const info = await stat(this.path(key)).catch(() => undefined);
    return info?.isFile() ? info.size : undefined;
  }

  async delete(key: string): Promise<void> {
    const file = this.path(key);
    await rm(file, { force: true });
    await rm(`${file}.type`, { force: true });
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    const out: ArtifactInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile() && !entry.name.endsWith('.type') && !entry.name.includes('.part-')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const info = await stat(full);
          out.push({ key, size: info.size, lastModified: info.mtime });
        }
      }
    };
    await walk(this.root);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }
}

/** The store this deployment is configured with (only the local one exists in this build). */
export function createArtifactStore(config: { artifactsDir: string }): ArtifactStore {
  return new LocalArtifactStore(config.artifactsDir);
}
