import { type Static, Type } from '@sinclair/typebox'
import { ListFormatQuery } from './list-format.schema.js'
import {
  CountQuery,
  DateTime,
  EditNote,
  exampled,
  Nullable,
  ExportablePageQuery,
  SLUG_PATTERN,
  Uuid,
} from './common.schema.js'
import { versionHeading } from './tombstone.schema.js'
import { StringEnum } from './string-enum.js'

export const PARTY_KINDS = [
  'state',
  'government',
  'military',
  'official',
  'media',
  'organisation',
  'fact-checker',
  'person',
  'other',
] as const

const Slug = Type.String({
  pattern: SLUG_PATTERN,
  minLength: 1,
  maxLength: 100,
  description: 'Lower-case letters, digits and single hyphens; unique among parties.',
  examples: ['az-defence-ministry'],
})
const Name = Type.String({ minLength: 1, maxLength: 300, examples: ['Azerbaijani Defence Ministry'] })
const Kind = StringEnum(PARTY_KINDS, { title: 'PartyKind', description: 'What sort of speaker the party is.' })
const Country = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 code.', examples: ['AZ'] })
const Wikidata = Type.String({ pattern: '^Q[1-9][0-9]*$', description: 'A Wikidata item id.', examples: ['Q227'] })
const Description = Type.String({ maxLength: 5000 })
const HttpsUrl = (description: string, example: string) =>
  Type.String({ format: 'uri', pattern: '^https://', maxLength: 2000, description, examples: [example] })
const Url = HttpsUrl(
  'Its home page (https). A fact-checker’s is the url of the author of its ClaimReview documents.',
  'https://checks.example.org/',
)
const Logo = HttpsUrl(
  'Its logo, an image (https). A fact-checker’s is the logo of the author of its ClaimReview documents.',
  'https://checks.example.org/logo.png',
)
/** How a request names a party: its id or its slug. */
export const PartyKey = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'A party id (uuid) or slug.',
  examples: ['az-defence-ministry'],
})
const SideKey = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'The party (id or slug) this party speaks for: a defence ministry speaks for its state.',
})

export const PartyRefSchema = Type.Object(
  { id: Uuid, slug: Type.String(), name: Type.String() },
  { $id: 'PartyRef', title: 'PartyRef', description: 'A short reference to a party.' },
)

export const PartySchema = Type.Object(
  {
    id: Uuid,
    slug: Type.String(),
    name: Type.String(),
    kind: Kind,
    country: Nullable(Type.String()),
    side: Type.Union([Type.Ref(PartyRefSchema), Type.Null()], { description: 'The party this one speaks for.' }),
    wikidata: Nullable(Type.String()),
    description: Nullable(Type.String()),
    url: Nullable(Type.String({ description: 'Its home page.' })),
    logo: Nullable(Type.String({ description: 'Its logo.' })),
    version: Type.Integer({
      minimum: 1,
      description: 'Incremented by every change; earlier versions are in /history.',
    }),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Party', title: 'Party' },
)
export type Party = Static<typeof PartySchema>
export type PartyRef = Static<typeof PartyRefSchema>

export const CreatePartyBody = Type.Object(
  {
    slug: Slug,
    name: Name,
    kind: Kind,
    country: Type.Optional(Country),
    side: Type.Optional(SideKey),
    wikidata: Type.Optional(Wikidata),
    description: Type.Optional(Description),
    url: Type.Optional(Url),
    logo: Type.Optional(Logo),
  },
  {
    additionalProperties: false,
    title: 'CreateParty',
    // A party the demo data set lacks (its slug is free), and the fact-checker the CreateReview example names.
    examples: [
      {
        slug: 'example-checks',
        name: 'Example Checks',
        kind: 'fact-checker',
        country: 'FR',
        url: 'https://checks.example.org/',
        logo: 'https://checks.example.org/logo.png',
        description: 'A fact-checking desk (an example).',
      },
    ],
  },
)
export type CreatePartyInput = Static<typeof CreatePartyBody>

export const UpdatePartyBody = Type.Object(
  {
    slug: Type.Optional(Slug),
    name: Type.Optional(Name),
    kind: Type.Optional(Kind),
    country: Type.Optional(Nullable(Country)),
    side: Type.Optional(Nullable(SideKey)),
    wikidata: Type.Optional(Nullable(Wikidata)),
    description: Type.Optional(Nullable(Description)),
    url: Type.Optional(Nullable(Url)),
    logo: Type.Optional(Nullable(Logo)),
    edit_note: Type.Optional(EditNote),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    title: 'UpdateParty',
    examples: [{ description: 'The defence ministry of Azerbaijan.', edit_note: 'Describes the ministry.' }],
    description:
      'Fields to change; null clears an optional field, an absent field stays as it is. `edit_note` is not a ' +
      'field of the party: it says why the change is made, and the version it makes keeps it.',
  },
)
export type UpdatePartyInput = Static<typeof UpdatePartyBody>

export const PartyVersionSchema = Type.Object(
  {
    ...versionHeading,
    party: Type.Object({
      slug: Type.String(),
      name: Type.String(),
      kind: Kind,
      country: Nullable(Type.String()),
      side: Type.Union([Type.Ref(PartyRefSchema), Type.Null()], {
        description: 'The party this one spoke for, as it was named then.',
      }),
      wikidata: Nullable(Type.String()),
      description: Nullable(Type.String()),
      url: Nullable(Type.String()),
      logo: Nullable(Type.String()),
    }),
  },
  { $id: 'PartyVersion', title: 'PartyVersion', description: 'A party as it read at one version.' },
)
export type PartyVersion = Static<typeof PartyVersionSchema>

export const PartyParams = Type.Object({ party: PartyKey })

export const PartyListQuery = Type.Object(
  {
    ...ExportablePageQuery,
    ...CountQuery,
    ...ListFormatQuery,
    kind: Type.Optional(Kind),
    country: Type.Optional(Country),
    side: Type.Optional(exampled(PartyKey, 'azerbaijan')),
  },
  { additionalProperties: false },
)
export type PartyListFilter = Static<typeof PartyListQuery>
