// Route schemas (validators and response serializers) compile on a route's first request instead of at
// start-up. Compiling every route's schemas up front cost about 0.4 s before the server could listen
// (measured on the embedded default's cold start), mostly for routes a deployment never calls. The
// compilers themselves are Fastify's own; only the moment they run changes.
import AjvCompiler from '@fastify/ajv-compiler'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type Validate = ((data: unknown, dataContext?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown }

function lazyValidators(): NonNullable<CompilersFactory['buildValidator']> {
  const buildFromPool = AjvCompiler()
  return (externalSchemas, options) => {
    const compile = buildFromPool(externalSchemas, options)
    return (route) => {
      let validate: Validate | undefined
      // Fastify reads `errors` off the function it was given after a failed validation
      const lazyValidate: Validate = (data, dataContext) => {
        validate ??= compile(route) as unknown as Validate
        const result = validate(data, dataContext)
        lazyValidate.errors = validate.errors
        return result
      }
      // Fastify hands the parent object (so Ajv can coerce a root value in place) only to functions that
      // carry Ajv's schemaEnv; every function compiled here is an Ajv one
      lazyValidate.schemaEnv = true
      return lazyValidate as unknown as ReturnType<typeof compile>
    }
  }
}

function lazySerializers(): NonNullable<CompilersFactory['buildSerializer']> {
  const buildFromPool = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = buildFromPool(externalSchemas, options)
    return (route) => {
      let serialize: ((data: unknown) => string) | undefined
      return (data: unknown) => {
        serialize ??= compile(route) as (data: unknown) => string
        return serialize(data)
      }
    }
  }
}

export function lazySchemaCompilers(): CompilersFactory {
  return { buildValidator: lazyValidators(), buildSerializer: lazySerializers() }
}
