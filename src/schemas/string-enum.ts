import { Type, type SchemaOptions, type TUnsafe } from '@sinclair/typebox'

/**
 * A string restricted to a list of values, emitted as a plain JSON Schema `enum` rather than TypeBox's `anyOf` of
 * literals: generated clients turn it into a proper enum type, and validation errors list the allowed values.
 */
export function StringEnum<const Values extends readonly string[]>(
  values: Values,
  options: SchemaOptions = {},
): TUnsafe<Values[number]> {
  return Type.Unsafe<Values[number]>({ ...options, type: 'string', enum: [...values] })
}
