import { invalidField } from '../errors/problems.js'
import { isUuid } from '../schemas/common.schema.js'

/** A slug must not have the shape of a uuid: parties and events are found by either, so it would be ambiguous. */
export function assertSlugShape(slug: string, record: 'a party' | 'an event'): void {
  if (isUuid(slug)) {
    throw invalidField('body', 'slug', `must not have the shape of a uuid: ${record} is found by either`)
  }
}
