import { type Static, Type } from '@sinclair/typebox'
import { Nullable } from './common.schema.js'
import type { CsvColumn } from './export.schema.js'
import { ListFormatQuery } from './list-format.schema.js'
import { PartyRefSchema } from './party.schema.js'

const Seconds = (description: string) => Nullable(Type.Integer({ description }))

const Delays = (what: string, description: string) =>
  Type.Object(
    {
      count: Type.Integer({ minimum: 0, description: `How many ${what}.` }),
      median_seconds: Seconds('The median delay, in seconds; null when there is none.'),
      p90_seconds: Seconds('The 90th percentile of the delays, in seconds; null when there is none.'),
    },
    { description },
  )

export const ResponseTimesSchema = Type.Object(
  {
    party: Type.Ref(PartyRefSchema),
    answering: Delays(
      "other parties' claims it answered",
      "How fast it answers other parties' claims: for each claim it rebutted or supported, the time from that " +
        'claim to its first response to it (negative for a prebuttal).',
    ),
    answered: Delays(
      'of its claims others answered',
      'How fast others answer it: for each of its claims that others answered, the time to the first response.',
    ),
    claims: Type.Integer({ minimum: 0, description: 'Its live claims.' }),
    unanswered: Type.Integer({
      minimum: 0,
      description: 'Its live claims that nothing answers: listed at /v1/claims?party={slug}&status=unanswered.',
    }),
  },
  {
    $id: 'ResponseTimes',
    title: 'ResponseTimes',
    description:
      'How fast a party answers others and is answered, from the stated times of the claims that live rebuttal ' +
      'and support links join (corrections and retractions are not responses).',
  },
)
export type ResponseTimes = Static<typeof ResponseTimesSchema>

export const ResponseTimesListSchema = Type.Object(
  { data: Type.Array(Type.Ref(ResponseTimesSchema)) },
  {
    $id: 'ResponseTimesList',
    title: 'ResponseTimesList',
    description:
      'Every live party that made or answered a claim, fastest answering first (those that answer none last).',
  },
)

export const ResponseTimesListQuery = Type.Object({ ...ListFormatQuery }, { additionalProperties: false })

export const RESPONSE_TIMES_CSV_COLUMNS: CsvColumn<ResponseTimes>[] = [
  { name: 'party_id', description: "The party's id.", value: (r) => r.party.id },
  { name: 'party_slug', description: "The party's slug.", value: (r) => r.party.slug },
  { name: 'party_name', description: "The party's name.", value: (r) => r.party.name },
  { name: 'answering_count', description: "Others' claims it answered.", value: (r) => r.answering.count },
  {
    name: 'answering_median_seconds',
    description: 'Median time to its first response to each.',
    value: (r) => r.answering.median_seconds,
  },
  { name: 'answering_p90_seconds', description: 'Its 90th percentile.', value: (r) => r.answering.p90_seconds },
  { name: 'answered_count', description: 'Its claims others answered.', value: (r) => r.answered.count },
  {
    name: 'answered_median_seconds',
    description: 'Median time to the first response to each.',
    value: (r) => r.answered.median_seconds,
  },
  { name: 'answered_p90_seconds', description: 'Its 90th percentile.', value: (r) => r.answered.p90_seconds },
  { name: 'claims', description: 'Its live claims.', value: (r) => r.claims },
  { name: 'unanswered', description: 'Its live claims that nothing answers.', value: (r) => r.unanswered },
]
