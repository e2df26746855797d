import { type SerializerFactory, SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { ValidateFunction } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

/** Which route and part a schema belongs to, for a schema that does not compile. */
interface SchemaOf {
  method: string
  url: string
  part: string
}

/**
 * Route schemas compiled when a request first needs them instead of when the service starts: compiling every
 * route's validators and response serializers up front was two thirds of a restart (bench/RESULTS.md). What is not
 * compiled yet is listed, so that `compileRest()` can do it after the service listens, and a test can check that
 * every schema compiles.
 */
export class CompiledOnFirstUse {
  private readonly pending = new Map<() => unknown, SchemaOf>()

  /** Fastify's own serializer compiler (fast-json-stringify), deferred: for `schemaController.compilersFactory`. */
  readonly buildSerializer: SerializerFactory = (externalSchemas, options) => {
    const compile = SerializerSelector()(externalSchemas, options)
    return (routeSchema) => {
      const compileNow = this.once(() => compile(routeSchema), {
        method: routeSchema.method,
        url: routeSchema.url,
        part: `response ${routeSchema.httpStatus}`,
      })
      return (data: unknown) => compileNow()(data)
    }
  }

  /** `compiler`'s validators, each compiled on its first call. */
  validators(compiler: FastifySchemaCompiler<object>): FastifySchemaCompiler<object> {
    return (routeSchema) => {
      const compileNow = this.once(() => compiler(routeSchema) as ValidateFunction, {
        method: routeSchema.method,
        url: routeSchema.url,
        part: routeSchema.httpPart ?? 'request',
      })
      let validate: ValidateFunction | undefined
      const deferred = ((data: unknown, context?: Parameters<ValidateFunction>[1]) =>
        (validate = compileNow())(data, context)) as ValidateFunction
      // Fastify reads these off the function it was given: the errors of the last call, and whether the validator
      // takes the parent of the data (to coerce a root value), which it asks just before the first call.
      Object.defineProperties(deferred, {
        errors: { get: () => validate?.errors ?? null },
        schemaEnv: { get: () => compileNow().schemaEnv },
      })
      return deferred
    }
  }

  /** How many schemas are not compiled yet. */
  get waiting(): number {
    return this.pending.size
  }

  /**
   * Compiles the schemas no request has needed yet, one per turn of the event loop so that requests go between;
   * each that fails is reported, and the rest are compiled all the same.
   */
  async compileRest(onError: (error: unknown, schema: SchemaOf) => void): Promise<void> {
    for (const [compileNow, schema] of this.pending) {
      try {
        compileNow()
      } catch (error) {
        onError(error, schema)
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** `compile`, run at most once: its result, or the error it threw, is kept for every later call. */
  private once<T>(compile: () => T, schema: SchemaOf): () => T {
    let outcome: { value: T } | { error: unknown } | undefined
    const compileNow = (): T => {
      if (outcome === undefined) {
        this.pending.delete(compileNow)
        try {
          outcome = { value: compile() }
        } catch (error) {
          outcome = { error }
        }
      }
      if ('error' in outcome) throw outcome.error
      return outcome.value
    }
    this.pending.set(compileNow, schema)
    return compileNow
  }
}
