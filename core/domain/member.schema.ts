/** Workspace member request and resource shapes. */
import { Type, type Static } from 'typebox';
import { PageQuery, pageOf } from './pagination.schema.ts';
import { named } from './schema-name.ts';

export const MEMBER_ROLES = ['owner', 'admin', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

const Role = Type.Enum(MEMBER_ROLES, { description: 'owner | admin | member' });

export const CreateMemberBody = Type.Object(
  {
    email: Type.String({
      format: 'email',
      maxLength: 254,
      description: 'Unique per workspace, compared case-insensitively.',
      examples: ['ann@example.com'],
    }),
    role: Role,
  },
  { ...named('CreateMemberBody'), additionalProperties: false },
);
export type CreateMemberBody = Static<typeof CreateMemberBody>;

export const UpdateMemberBody = Type.Object({ role: Role }, { additionalProperties: false });
export type UpdateMemberBody = Static<typeof UpdateMemberBody>;

export const MemberResource = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    role: Role,
    created_at: Type.String({ format: 'date-time' }),
  },
  { ...named('Member') },
);
export type MemberResource = Static<typeof MemberResource>;

export const MemberList = pageOf(MemberResource);

export const MemberIdParams = Type.Object({
  id: Type.String({ description: 'Member id (a ULID)', examples: ['01JC1AMQX4N3PWV9MR2BCKDH7E'] }),
});

export const ListMembersQuery = PageQuery;
