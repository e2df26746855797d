import { type Static, Type } from '@sinclair/typebox'
import { Uuid } from './common.schema.js'
import { StringEnum } from './string-enum.js'

const Ids = (description: string) => Type.Array(Uuid, { description })
const Count = (description: string) => Type.Integer({ minimum: 0, description })

export const ErasureSchema = Type.Object(
  {
    kind: StringEnum(['party', 'claim', 'review'], { title: 'ErasedKind', description: 'What was erased.' }),
    id: Uuid,
    removed: Type.Object(
      {
        parties: Ids('The parties removed.'),
        claims: Ids('The claims removed.'),
        links: Ids("The links removed, live or deleted: a claim's links to and from other claims go with it."),
        reviews: Ids('The reviews removed, live or deleted.'),
        versions: Count('The kept versions removed (of the parties, claims, links and reviews).'),
        import_refs: Count('The import refs that named a removed record: importing one again records it anew.'),
        stored_answers: Count(
          'The stored answers of idempotent requests that named a removed record, forgotten: a retry is told its ' +
            'request was applied, without the answer.',
        ),
      },
      { additionalProperties: false },
    ),
  },
  {
    $id: 'Erasure',
    title: 'Erasure',
    description: 'What an erasure removed for good. The erased id answers 404 from then on, as if it never existed.',
  },
)
export type Erasure = Static<typeof ErasureSchema>
