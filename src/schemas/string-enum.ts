import { type SchemaOptions, type Static, type TUnsafe, Type } from '@sinclair/typebox'

/**
 * A string restricted to a list of values, emitted as a plain JSON Schema `enum` rather than TypeBox's `anyOf` of
 * literals: generated clients turn it into a proper enum type, and validation errors list the allowed values.
 * With a `title`, the OpenAPI document defines it once under that name and refers to it wherever it is used.
 */
export function StringEnum<const Values extends readonly string[]>(
  values: Values,
  options: SchemaOptions = {},
): TUnsafe<Values[number]> {
  return Type.Unsafe<Values[number]>({ ...options, type: 'string', enum: [...values] })
}

/** A named enum that may also be null (absent, or cleared); the document refers to the enum, or null. */
export function NullableEnum<T extends TUnsafe<string>>(schema: T, description: string): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({
    ...schema,
    description,
    type: ['string', 'null'],
    enum: [...(schema.enum as string[]), null],
  })
}
