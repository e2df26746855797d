import type { FastifyReply } from 'fastify'

/**
 * Adds a request header to the answer's `Vary`, keeping what is there: CORS adds `Origin` before the route runs,
 * and a cache that lost it would serve one origin's answer to another.
 */
export function varyOn(reply: FastifyReply, field: string): void {
  const current = reply.getHeader('vary')
  const fields = (Array.isArray(current) ? current.join(',') : String(current ?? ''))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  if (fields.includes('*') || fields.some((name) => name.toLowerCase() === field.toLowerCase())) return
  reply.header('vary', [...fields, field].join(', '))
}
