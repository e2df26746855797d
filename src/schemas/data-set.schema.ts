import { type Static, Type } from '@sinclair/typebox'
import { CreateClaimBody } from './claim.schema.js'
import { Uuid } from './common.schema.js'
import { CreateLinkBody } from './link.schema.js'
import { CreateEventBody } from './event.schema.js'
import { CreatePartyBody } from './party.schema.js'

/**
 * A data set as a file holds it: parties, the events its claims are about, then claims with ids of their own (so that loading it again finds
 * them), then links between those claims. Each record is what the API's create request takes.
 */
export const DataSetSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    parties: Type.Array(CreatePartyBody),
    events: Type.Optional(Type.Array(CreateEventBody)),
    claims: Type.Array(Type.Object({ id: Uuid, ...CreateClaimBody.properties }, { additionalProperties: false })),
    links: Type.Array(
      Type.Object(
        {
          from: Type.String({ ...Uuid, description: 'The responding claim.' }),
          to: Type.String({ ...Uuid, description: 'The claim it answers.' }),
          kind: CreateLinkBody.properties.kind,
          note: CreateLinkBody.properties.note,
          prebuttal: CreateLinkBody.properties.prebuttal,
          aspect: CreateLinkBody.properties.aspect,
          measure: CreateLinkBody.properties.measure,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type DataSet = Static<typeof DataSetSchema>
