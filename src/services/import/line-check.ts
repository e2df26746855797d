import type { ErrorObject, ValidateFunction } from 'ajv'
import { ApiError, type FieldError, invalidField } from '../../errors/problems.js'
import { compileJsonValidator, fieldErrorsOf } from '../../validation/json-validation.js'
import {
  ClaimLine,
  type ClaimLineInput,
  DeletionLine,
  type DeletionLineInput,
  EventLine,
  type EventLineInput,
  IMPORT_LINE_TYPES,
  type ImportLineType,
  LinkLine,
  type LinkLineInput,
  PartyLine,
  type PartyLineInput,
  ReviewLine,
  type ReviewLineInput,
} from '../../schemas/import.schema.js'

/** A claim line; a data set's claims bring ids of their own (an import's never do: its schema has no `id`). */
export type ImportClaimLine = ClaimLineInput & { id?: string }

export type ParsedLine =
  PartyLineInput | EventLineInput | ImportClaimLine | LinkLineInput | ReviewLineInput | DeletionLineInput

/** A line that passed its schema: its number, and what it says. */
export interface CheckedLine {
  number: number
  type: ImportLineType
  line: ParsedLine
}

const LINE_SCHEMAS = {
  party: PartyLine,
  event: EventLine,
  claim: ClaimLine,
  link: LinkLine,
  review: ReviewLine,
  deletion: DeletionLine,
} satisfies Record<ImportLineType, object>
const validators: Partial<Record<ImportLineType, ValidateFunction>> = {}

/** Compiled on the first line of its type, not as the service starts, where the six took a sixth of a restart. */
const validatorOf = (type: ImportLineType) => (validators[type] ??= compileJsonValidator(LINE_SCHEMAS[type]))

/** What the fields that take either a key or `{"ref": …}` take, for a problem about one of them. */
const REFERENCE_FORMS: Record<string, string> = {
  side: 'a party id or slug (1 to 100 characters), or {"ref": …}',
  party: 'a party id or slug (1 to 100 characters), or {"ref": …}',
  event: 'an event id or slug (1 to 100 characters), or {"ref": …}',
  reviewer: 'a party id or slug (1 to 100 characters), or {"ref": …}',
  from: 'a claim id (uuid), or {"ref": …}',
  to: 'a claim id (uuid), or {"ref": …}',
  claim: 'a claim id (uuid), or {"ref": …}',
}

/** A line as a JSON object. */
export function parseJson(text: string): object {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ApiError('malformed-request', `the line is not valid JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidField('body', 'body', 'must be a JSON object')
  }
  return value
}

/** A line checked against its type's schema; every problem is a bad line, named as the API names them. */
export function checkLine(value: object): { type: ImportLineType; line: ParsedLine } {
  const type = (value as { type?: unknown }).type
  if (!IMPORT_LINE_TYPES.includes(type as ImportLineType)) {
    const message = type === undefined ? 'is required' : `must be one of: ${IMPORT_LINE_TYPES.join(', ')}`
    throw invalidField('body', 'type', message)
  }
  const validate = validatorOf(type as ImportLineType)
  if (!validate(value)) {
    const errors = lineFieldErrors(validate.errors ?? [])
    throw new ApiError('validation-failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors })
  }
  const nul = fieldWithNul(value)
  if (nul !== undefined) throw invalidField('body', nul, 'must not contain the NUL character (U+0000)')
  return { type: type as ImportLineType, line: value as ParsedLine }
}

/**
 * Ajv's errors as the API words them, except that a field taking a key or `{"ref": …}` gets one problem saying
 * so, instead of one per form it did not match.
 */
function lineFieldErrors(errors: ErrorObject[]): FieldError[] {
  const eitherForm = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath))
  const kept = errors.filter((e) => !eitherForm.has(e.instancePath))
  const fieldErrors = [...eitherForm].map((path): FieldError => {
    const field = path.slice(1)
    return { in: 'body', field, message: `must be ${REFERENCE_FORMS[field] ?? 'a key or {"ref": …}'}` }
  })
  return [...fieldErrors, ...fieldErrorsOf(kept, 'body')]
}

/** The field of a checked line (a few levels deep at most) whose string holds a NUL, which PostgreSQL refuses. */
function fieldWithNul(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, item] of Object.entries(value)) {
    const found = fieldWithNul(item, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key)
    if (found !== undefined) return found
  }
  return undefined
}
