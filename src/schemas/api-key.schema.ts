import { type Static, Type } from '@sinclair/typebox'
import { CountQuery, DateTime, Nullable, PageQuery, SLUG_PATTERN, Uuid } from './common.schema.js'
import { StringEnum } from './string-enum.js'

/**
 * What a key may do. Each scope includes the ones before it: `write` can read, and `admin` can write and read,
 * change records other keys created, and manage keys.
 */
export const SCOPES = ['read', 'write', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

/** True when a key with `scopes` may do what `needed` allows. */
export const grants = (scopes: readonly string[], needed: Scope): boolean =>
  scopes.some((scope) => SCOPES.indexOf(scope as Scope) >= SCOPES.indexOf(needed))

const ScopeSchema = StringEnum(SCOPES, {
  title: 'Scope',
  description:
    '`read`: read, where reads require a key. `write`: also create, and change or delete what this key, or a key of ' +
    'its team, created. ' +
    '`admin`: also change or delete anything, and manage keys.',
})

/** The key a request authenticated with, as the routes and hooks see it (`request.apiKey`). */
export interface ApiKeyIdentity {
  id: string
  name: string
  scopes: readonly Scope[]
  team: string | null
}

const Team = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: SLUG_PATTERN,
  description:
    'The team the key belongs to (a slug, `[a-z0-9-]`): a `write` key may change or delete what any key of its ' +
    'team created. A key of no team changes only what it created itself.',
})

/** Every token starts with this, so that a leaked one is recognised by secret scanners and by people. */
export const TOKEN_PREFIX = 'cck_'

export const ApiKeySchema = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the token, to tell keys apart; not a secret.' }),
    scopes: Type.Array(ScopeSchema),
    team: Nullable(Team),
    created_at: DateTime,
    last_used_at: Nullable(Type.String({ ...DateTime, description: 'Updated at most once a minute.' })),
    revoked_at: Nullable(DateTime),
  },
  { $id: 'ApiKey', title: 'ApiKey', description: 'An API key, without its token: that is shown once, at creation.' },
)
export type ApiKey = Static<typeof ApiKeySchema>

export const CreatedApiKeySchema = Type.Object(
  {
    ...ApiKeySchema.properties,
    token: Type.String({
      description: `The secret to send as \`Authorization: Bearer <token>\`; starts with \`${TOKEN_PREFIX}\`. Shown only here: keep it.`,
    }),
  },
  { $id: 'CreatedApiKey', title: 'CreatedApiKey', description: 'A new API key with its token.' },
)

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Who or what holds the key.' }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 3, uniqueItems: true }),
    team: Type.Optional(Team),
  },
  {
    additionalProperties: false,
    title: 'CreateApiKey',
    examples: [{ name: 'Newsroom importer', scopes: ['write'], team: 'newsroom' }],
  },
)
export type CreateApiKeyInput = Static<typeof CreateApiKeyBody>

export const ApiKeyParams = Type.Object({ id: Uuid })
export const ApiKeyListQuery = Type.Object({ ...PageQuery, ...CountQuery }, { additionalProperties: false })
