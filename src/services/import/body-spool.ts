import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { type Readable, Transform, finished } from 'node:stream'
import { ApiError } from '../../errors/problems.js'

/** The longest line an import takes, in bytes: a claim with every field at its longest fits many times over. */
export const MAX_LINE_BYTES = 1024 * 1024

/**
 * A 413 raised while the body still arrives. It closes the connection once answered: otherwise the server would
 * go on receiving the rest of the body, however large, only to discard it before the next request.
 */
const tooLarge = (detail: string) => new ApiError('payload-too-large', detail, { headers: { connection: 'close' } })

/**
 * Holds a body to its limits as it passes: its size, and the length of each line. Fails with the 413 to answer.
 */
function bodyLimits(bodyLimitBytes: number): Transform {
  let received = 0
  let lineNumber = 1
  let lineBytes = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length
      if (received > bodyLimitBytes) {
        callback(tooLarge(`the body is larger than the ${bodyLimitBytes} bytes an import may have`))
        return
      }
      for (let at = 0; ;) {
        const newline = chunk.indexOf(10, at)
        lineBytes += (newline === -1 ? chunk.length : newline) - at
        if (lineBytes > MAX_LINE_BYTES) {
          callback(tooLarge(`line ${lineNumber} is longer than the ${MAX_LINE_BYTES} bytes a line may have`))
          return
        }
        if (newline === -1) break
        lineNumber++
        lineBytes = 0
        at = newline + 1
      }
      callback(null, chunk)
    },
  })
}

/**
 * Writes the body to a file as it arrives, held to its limits, and resolves once the file is complete and
 * closed. A client gone before the end of its body (the only way the request itself fails) fails it with a 400:
 * nothing is imported from the part that came, and the answer, which cannot reach the client, is logged as a
 * client's error, not as the server's. The request is never destroyed here, so that a problem can still be
 * answered on it.
 */
export async function spool(body: Readable, path: string, bodyLimitBytes: number): Promise<Buffer> {
  const limits = bodyLimits(bodyLimitBytes)
  const file = createWriteStream(path, { flags: 'wx' })
  // The body's SHA-256, taken as it passes, for what an idempotent retry must repeat.
  const digest = createHash('sha256')
  limits.on('data', (chunk: Buffer) => digest.update(chunk))
  try {
    await new Promise<void>((resolve, reject) => {
      limits.on('error', reject)
      file.on('error', reject)
      file.on('close', resolve)
      finished(body, (error) => {
        if (error) reject(new ApiError('malformed-request', 'the connection closed before the end of the body'))
      })
      body.pipe(limits).pipe(file)
    })
    return digest.digest()
  } finally {
    body.unpipe(limits)
    limits.destroy()
    if (!file.closed) {
      await new Promise<void>((resolve) => {
        file.once('close', () => resolve())
        file.destroy()
      })
    }
  }
}
