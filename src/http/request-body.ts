import type { FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from '../errors/problems.js'

/**
 * After an answer sent before the body was read whole (a 413, a refused key), the rest of the body is read and
 * discarded, up to this many bytes, so that a client still writing it can read the answer: a connection closed
 * under a client that writes fails its request (EPIPE) instead. A body declared larger, or one that keeps coming,
 * gets the connection closed, as does one still arriving after DRAIN_TIMEOUT_MS.
 */
export const DRAIN_LIMIT_BYTES = 4 * 1024 * 1024
const DRAIN_TIMEOUT_MS = 10_000

/** Requests sent `Expect: 100-continue` that were told to go on (a 100 Continue was sent). */
const continued = new WeakSet<object>()

const expectsContinue = (request: FastifyRequest) =>
  String(request.headers.expect ?? '')
    .trim()
    .toLowerCase() === '100-continue'

/**
 * Sends `100 Continue` to a client that waits for it before sending its body. Called once the request passed
 * every check that needs no body (authentication, rate limits): a request refused before is answered without
 * it, so that a client without a key is never invited to upload.
 */
export function continueIfExpected(request: FastifyRequest, reply: FastifyReply): void {
  if (!expectsContinue(request) || reply.raw.headersSent || continued.has(request.raw)) return
  continued.add(request.raw)
  reply.raw.writeContinue()
}

/**
 * A compressed body would be parsed as if it were not (JSON of gzip bytes is a syntax error at best). Only
 * uncompressed bodies are taken: 415, with `Accept-Encoding: identity` (RFC 7694) saying so.
 */
export function refuseEncodedBody(request: FastifyRequest): void {
  const encoding = String(request.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase()
  // Only where a body is read: elsewhere it is ignored, and a 415 is no answer the route documents.
  if (encoding === '' || encoding === 'identity' || request.routeOptions.schema?.body === undefined) return
  const declared = request.headers['content-length']
  const hasBody = request.headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0')
  if (!hasBody) return
  throw new ApiError(
    'unsupported-media-type',
    `the body is sent with Content-Encoding: ${encoding.slice(0, 50)}; only uncompressed bodies are accepted`,
    { headers: { 'accept-encoding': 'identity' } },
  )
}

/**
 * Called as an error answer is sent: if the request's body has not arrived whole, decides what becomes of the
 * rest. A client that waits for `100 Continue` and was never sent one has sent no body: the connection is closed
 * after the answer, since the client may or may not send it. Otherwise the rest is read and discarded, within
 * DRAIN_LIMIT_BYTES and DRAIN_TIMEOUT_MS, and the connection stays usable.
 */
export function settleUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw
  // `complete` is false only for a real request whose body is still on its way (inject's requests lack it).
  if (raw.complete !== false || raw.socket === null) return
  const declared = Number(request.headers['content-length'])
  if ((expectsContinue(request) && !continued.has(raw)) || declared > DRAIN_LIMIT_BYTES) {
    reply.header('connection', 'close')
    return
  }
  // Fastify asks for the connection to be closed after an answer to a body it did not read; it stays open
  // while the rest is discarded instead.
  reply.removeHeader('connection')
  const socket = raw.socket
  let received = 0
  const giveUp = () => socket.destroy()
  const timer = setTimeout(giveUp, DRAIN_TIMEOUT_MS)
  timer.unref()
  const onData = (chunk: Buffer) => {
    received += chunk.length
    if (received > DRAIN_LIMIT_BYTES) giveUp()
  }
  raw.on('data', onData)
  raw.once('close', () => {
    clearTimeout(timer)
    raw.off('data', onData)
  })
  raw.resume()
}
