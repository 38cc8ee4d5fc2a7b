/**
 * Profile request and resource shapes: a profile is a named, versioned storage_state. Only a single
 * version's resource (GET /v1/profiles/{id}/versions/{n}) carries the storage_state itself.
 * Pure data, no I/O.
 */
import { Type, type Static } from 'typebox';
import { RestoredState, StorageState } from './session.schema.ts';
import { ULID_PATTERN } from './ids.ts';
import { pageOf } from './pagination.schema.ts';
import { named } from './schema-name.ts';

/** Postgres `integer`: a version number beyond it cannot exist. */
export const MAX_PROFILE_VERSION = 2_147_483_647;

/** 1-128 characters, no control characters. */
export const ProfileName = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\x00-\\x1f\\x7f]+$',
  description: 'Unique among the live profiles of the workspace (case-sensitive).',
  examples: ['billing-portal-login'],
});

export const CreateProfileBody = Type.Object(
  { name: ProfileName, storage_state: StorageState },
  { ...named('CreateProfileBody'), additionalProperties: false },
);
export type CreateProfileBody = Static<typeof CreateProfileBody>;

export const CreateProfileVersionBody = Type.Object(
  { storage_state: StorageState },
  { additionalProperties: false },
);
export type CreateProfileVersionBody = Static<typeof CreateProfileVersionBody>;

export const ProfileResource = Type.Object(
  {
    id: Type.String({ description: 'Profile id (a ULID).' }),
    name: Type.String(),
    latest_version: Type.Integer({
      minimum: 1,
      description: 'Also sent as the ETag; send it back in If-Match when appending a version.',
    }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { ...named('Profile') },
);
export type ProfileResource = Static<typeof ProfileResource>;

/** A version without its storage_state (the answer to appending one). */
export const ProfileVersionSummary = Type.Object(
  {
    profile_id: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { ...named('ProfileVersionSummary') },
);
export type ProfileVersionSummary = Static<typeof ProfileVersionSummary>;

/** A version with its storage_state: the one place the API returns it. */
export const ProfileVersionResource = Type.Object(
  {
    profile_id: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    created_at: Type.String({ format: 'date-time' }),
    storage_state: StorageState,
  },
  { ...named('ProfileVersion') },
);
export type ProfileVersionResource = Static<typeof ProfileVersionResource>;

export const ProfileList = pageOf(ProfileResource);

/** POST /v1/sessions/{id}/profile-snapshot: into an existing profile (`profile_id`) or a new one (`name`). */
export const ProfileSnapshotBody = Type.Object(
  {
    profile_id: Type.Optional(
      Type.String({
        pattern: ULID_PATTERN,
        description: 'Append the snapshot as the next version of this profile.',
      }),
    ),
    expected_version: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PROFILE_VERSION,
        description:
          'With `profile_id`: the latest_version you last saw (1 or more). If another writer appended first the snapshot is ' +
          'refused with 409 and nothing is overwritten. Without it the version is appended after whatever is latest.',
      }),
    ),
    // Create a new profile of this name from the snapshot (instead of profile_id).
    name: Type.Optional(ProfileName),
  },
  { ...named('ProfileSnapshotBody'), additionalProperties: false },
);
export type ProfileSnapshotBody = Static<typeof ProfileSnapshotBody>;

/** The version a snapshot created, with counts (never values) of what it captured. */
export const ProfileSnapshotResource = Type.Object(
  {
    profile_id: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    created_at: Type.String({ format: 'date-time' }),
    captured: RestoredState,
  },
  { ...named('ProfileSnapshot') },
);
export type ProfileSnapshotResource = Static<typeof ProfileSnapshotResource>;
