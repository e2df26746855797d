import type { Socket } from 'node:net'
import type { FastifyReply } from 'fastify'
import { ApiError, PROBLEMS, problemBody } from '../errors/problems.js'

/**
 * Answers with a problem; every problem response of the API goes through here. The request id is set here too,
 * for errors raised before the hooks that set it ran (a URL that cannot be decoded).
 */
export function sendProblem(reply: FastifyReply, problem: ApiError) {
  return reply
    .code(problem.status)
    .header('x-request-id', reply.request.id)
    .headers(problem.extras.headers ?? {})
    .type('application/problem+json')
    .send(problemBody(problem, reply.request.id))
}

/**
 * Answers a request that Node's HTTP parser refused before Fastify saw it (bad bytes in a header, headers too
 * large, a request too slow to arrive), on the raw socket, then closes the connection.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, requestId: string): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const problem =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new ApiError('request-timeout', 'the request did not arrive in time')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new ApiError('headers-too-large', 'the request headers are larger than the server accepts')
        : error.code === 'HPE_INVALID_URL'
          ? new ApiError(
              'malformed-request',
              'the request URL is not valid: percent-encode spaces and characters outside ASCII ' +
                '(curl -G --data-urlencode "q=…")',
            )
          : new ApiError('malformed-request', 'the request is not valid HTTP')
  const body = JSON.stringify(problemBody(problem, requestId))
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${PROBLEMS[problem.code].title}\r\n` +
        `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}
