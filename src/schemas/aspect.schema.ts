import { Type } from '@sinclair/typebox'
import { SLUG_PATTERN } from './common.schema.js'
import { NullableEnum, StringEnum } from './string-enum.js'

export const LINK_ASPECTS = ['cause', 'figure', 'attribution', 'timing', 'location', 'evidence', 'other'] as const

/** How a claim's disputed aspects name a rebuttal that names none: a flat denial of the whole claim. */
export const WHOLE_CLAIM = 'whole'

const ASPECT_DESCRIPTION =
  'The part of the claim that a rebuttal or support answers: its cause, a figure it states, who it says did it ' +
  '(attribution), when, where, or its evidence. None (null) answers the whole claim. Only for rebuts and supports.'
export const Aspect = StringEnum(LINK_ASPECTS, { title: 'Aspect', description: ASPECT_DESCRIPTION })
export const NullableAspect = NullableEnum(Aspect, ASPECT_DESCRIPTION)
export const LinkMeasure = Type.String({
  pattern: SLUG_PATTERN,
  minLength: 1,
  maxLength: 50,
  description: 'For `aspect: figure`, what the disputed figure measures (a slug); refused with any other aspect.',
  examples: ['deaths'],
})

/** A claim's disputed aspects: those its rebuttals name, then `whole` for the rebuttals that name none. */
export const DISPUTED_ASPECTS = [...LINK_ASPECTS, WHOLE_CLAIM] as const
