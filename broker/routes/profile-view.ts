/** Profiles as the API returns them (without storage_state), and the version an ETag or If-Match names. */
import type { ProfileResource, ProfileVersionSummary } from '../../core/domain/profile.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import type { Profile, ProfileVersion } from '../../core/db/profiles.repository.ts';

const IF_MATCH = /^(?:"([1-9][0-9]{0,9})"|([1-9][0-9]{0,9}))$/;

/** The version an If-Match header names; undefined for none (or `*`): append after the latest. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return undefined;
  const match = IF_MATCH.exec(value);
  if (!match) {
    throw new ProblemError('validation-error', {
      detail: `If-Match must be the profile's ETag, e.g. "3" (its latest_version); got ${JSON.stringify(header)}`,
    });
  }
  return Number(match[1] ?? match[2]);
}

export const etag = (version: number) => `"${version}"`;

export function toProfileResource(p: Profile): ProfileResource {
  return {
    id: p.id,
    name: p.name,
    latest_version: p.latestVersion,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export function toVersionSummary(v: ProfileVersion): ProfileVersionSummary {
  return { profile_id: v.profileId, version: v.version, created_at: v.createdAt.toISOString() };
}
