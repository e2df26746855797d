import { isDeepStrictEqual } from 'node:util'

/**
 * Route schemas are written whole, because the request validators compile each one alone; the OpenAPI document
 * names them instead. Every schema with a `title` (a request body, a page, an import line, a shared enum) becomes
 * `components/schemas/<title>` and each use of it a `$ref`, so that generated clients get a `CreateClaim` or a
 * `PartyKind` type rather than one named after the path it was found under.
 */

type Schema = Record<string, unknown>

/** What one use of a named schema may say of itself, beside the reference: they do not change what is valid. */
const USE_SITE_KEYWORDS = ['description', 'examples', 'default', 'deprecated'] as const

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const refTo = (title: string) => `#/components/schemas/${title}`

function withoutUseSiteKeywords(schema: Schema): Schema {
  const rest = { ...schema }
  for (const keyword of USE_SITE_KEYWORDS) delete rest[keyword]
  return rest
}

/** A nullable enum (`type: [T, "null"]` with null among its values) as the enum without null, if it is one. */
function withoutNull(schema: Schema): Schema | undefined {
  const { type, enum: values } = schema
  if (!Array.isArray(type) || type.length !== 2 || !type.includes('null')) return undefined
  if (!Array.isArray(values) || !values.includes(null)) return undefined
  return { ...schema, type: type.find((name) => name !== 'null'), enum: values.filter((value) => value !== null) }
}

/** Schemas nested in a schema, by the keywords that hold them. */
function* subschemas(schema: Schema): Generator<[holder: Schema | unknown[], key: string | number]> {
  for (const keyword of ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains']) {
    if (isSchema(schema[keyword])) yield [schema, keyword]
  }
  for (const keyword of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const list = schema[keyword]
    if (Array.isArray(list)) for (let i = 0; i < list.length; i++) yield [list, i]
  }
  for (const keyword of ['properties', 'patternProperties', '$defs']) {
    const map = schema[keyword]
    if (isSchema(map)) for (const key of Object.keys(map)) if (isSchema(map[key])) yield [map, key]
  }
}

/**
 * Moves every titled schema of the document into `components/schemas`, innermost first, and refers to it there.
 * A use keeps what it says of itself (its description) beside the reference: an enum's component is its values
 * alone, each use saying what they mean there. A nullable enum refers to the enum, or null. Two different
 * schemas under one title are a mistake of the route schemas, and fail the document.
 */
export function nameTitledSchemas<T extends { paths?: object; components?: object }>(document: T): T {
  // The generator's document shares its schemas with the routes, which validate with them: those stay as they are.
  document = structuredClone(document)
  const componentsObject = ((document as { components?: object }).components ??= {}) as {
    schemas?: Record<string, Schema>
  }
  const components = (componentsObject.schemas ??= {})

  const conflicts = new Set<string>()

  /** The schema to put where `schema` was: itself with its nested schemas named, or a reference to it. */
  function name(schema: Schema, isComponent = false): Schema {
    for (const [holder, key] of subschemas(schema)) {
      const nested = (holder as Record<string | number, Schema>)[key] as Schema
      ;(holder as Record<string | number, Schema>)[key] = name(nested)
    }
    const title = schema.title
    if (isComponent || typeof title !== 'string') return schema

    const nonNull = withoutNull(schema)
    const base = nonNull ?? schema
    const known = components[title]
    if (known === undefined) {
      // A first use defines the component. An enum's is its values alone: each use says what they mean there.
      components[title] = base.enum === undefined ? base : withoutUseSiteKeywords(base)
    } else if (!isDeepStrictEqual(withoutUseSiteKeywords(base), withoutUseSiteKeywords(known))) {
      conflicts.add(title)
    }
    const component = components[title]
    const useSite: Schema = {}
    for (const keyword of USE_SITE_KEYWORDS) {
      if (schema[keyword] !== undefined && !isDeepStrictEqual(schema[keyword], component[keyword])) {
        useSite[keyword] = schema[keyword]
      }
    }
    const ref = { $ref: refTo(title) }
    return nonNull === undefined ? { ...ref, ...useSite } : { anyOf: [ref, { type: 'null' }], ...useSite }
  }

  for (const [title, schema] of Object.entries(components)) components[title] = name(schema, true)
  for (const item of Object.values(document.paths ?? {}) as Array<Record<string, OperationObject>>) {
    for (const operation of Object.values(item)) {
      if (typeof operation !== 'object' || operation === null) continue
      for (const parameter of operation.parameters ?? []) {
        if (isSchema(parameter.schema)) parameter.schema = name(parameter.schema)
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        if (isSchema(media.schema)) media.schema = name(media.schema)
      }
      for (const response of Object.values(operation.responses ?? {})) {
        for (const media of Object.values(response.content ?? {})) {
          if (isSchema(media.schema)) media.schema = name(media.schema)
        }
        for (const header of Object.values(response.headers ?? {})) {
          if (isSchema(header.schema)) header.schema = name(header.schema)
        }
      }
    }
  }
  if (conflicts.size > 0) throw new Error(`different schemas have one title: ${[...conflicts].join(', ')}`)
  // Components named on the way, in the order of their names, so that the document reads like an index.
  componentsObject.schemas = Object.fromEntries(Object.entries(components).sort(([a], [b]) => (a < b ? -1 : 1)))
  return document
}

/**
 * A response that may be one of several problems (an import's 422: its bad lines, or a reused Idempotency-Key)
 * gets a discriminator on `code`, so that a client tells them apart: a problem whose code has one value maps that
 * value to it, and the general problem takes every other code it may carry.
 */
export function discriminateProblems<T extends { paths?: object; components?: object }>(document: T): T {
  const components = ((document.components ?? {}) as { schemas?: Record<string, Schema> }).schemas ?? {}
  const codesOf = (ref: unknown): unknown[] | undefined => {
    if (typeof ref !== 'string' || !ref.startsWith(refTo(''))) return undefined
    const code = (components[ref.slice(refTo('').length)]?.properties as Record<string, Schema> | undefined)?.code
    const target = typeof code?.$ref === 'string' ? components[code.$ref.slice(refTo('').length)] : code
    return Array.isArray(target?.enum) ? target.enum : undefined
  }
  for (const item of Object.values(document.paths ?? {}) as Array<Record<string, OperationObject>>) {
    for (const operation of Object.values(item)) {
      for (const response of Object.values(operation.responses ?? {})) {
        const schema = response.content?.['application/problem+json']?.schema as Schema | undefined
        const members = schema?.anyOf
        if (!Array.isArray(members) || members.length < 2) continue
        const refs = members.map((member) => (member as Schema).$ref as string)
        const codes = refs.map(codesOf)
        if (codes.some((list) => list === undefined)) continue
        const mapping: Record<string, string> = {}
        refs.forEach((ref, i) => {
          if (codes[i]?.length === 1) mapping[String(codes[i][0])] = ref
        })
        refs.forEach((ref, i) => {
          for (const code of codes[i] ?? []) mapping[String(code)] ??= ref
        })
        schema!.discriminator = { propertyName: 'code', mapping }
      }
    }
  }
  return document
}

interface OperationObject {
  parameters?: Array<{ schema?: unknown }>
  requestBody?: { content?: Record<string, { schema?: unknown }> }
  responses?: Record<
    string,
    { content?: Record<string, { schema?: unknown }>; headers?: Record<string, { schema?: unknown }> }
  >
}
