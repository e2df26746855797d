import { type Serializer, type SerializerFactory, SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { ValidateFunction } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

/**
 * Route schemas compiled when a request first needs them instead of when the service starts: compiling every
 * route's validators and response serializers up front was two thirds of a restart (bench/RESULTS.md). What is not
 * compiled yet is listed, so that `compileRest()` can do it after the service listens, and a test can check that
 * every schema compiles.
 */
export class CompiledOnFirstUse {
  private readonly pending = new Set<() => void>()

  /** Fastify's own serializer compiler (fast-json-stringify), deferred: for `schemaController.compilersFactory`. */
  readonly buildSerializer: SerializerFactory = (externalSchemas, options) => {
    const compile = SerializerSelector()(externalSchemas, options)
    return (routeSchema) => {
      let serialize: Serializer | undefined
      const compileNow = () => {
        this.pending.delete(compileNow)
        return (serialize ??= compile(routeSchema))
      }
      this.pending.add(compileNow)
      return (data: unknown) => (serialize ?? compileNow())(data)
    }
  }

  /** `compiler`'s validators, each compiled on its first call. */
  validators(compiler: FastifySchemaCompiler<object>): FastifySchemaCompiler<object> {
    return (routeSchema) => {
      let validate: ValidateFunction | undefined
      const compileNow = () => {
        this.pending.delete(compileNow)
        return (validate ??= compiler(routeSchema) as ValidateFunction)
      }
      this.pending.add(compileNow)
      const deferred = ((data: unknown, context?: Parameters<ValidateFunction>[1]) =>
        (validate ?? compileNow())(data, context)) as ValidateFunction
      // Fastify reads these off the function it was given: the errors of the last call, and whether the validator
      // takes the parent of the data (to coerce a root value), which it asks just before the first call.
      Object.defineProperties(deferred, {
        errors: { get: () => validate?.errors ?? null },
        schemaEnv: { get: () => (validate ?? compileNow()).schemaEnv },
      })
      return deferred
    }
  }

  /** How many schemas are not compiled yet. */
  get waiting(): number {
    return this.pending.size
  }

  /** Compiles the schemas no request has needed yet, one per turn of the event loop so that requests go between. */
  async compileRest(): Promise<void> {
    for (const compileNow of this.pending) {
      compileNow()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}
