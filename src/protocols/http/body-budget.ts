// Bytes of request bodies held across the whole HTTP listener, bounded. bodyLimit bounds one body, but every
// concurrent request may hold that much until it is complete (a body is buffered whole before parsing), so
// many oversized or trickled bodies at once add up, and the allocator keeps the pages after they are freed.
// Each body is read through a counting stream; one that would take the total past the budget is refused with
// 503 (each service's retryable "unavailable" error) and its bytes given back. A request's bytes are given
// back when its response is done or its connection goes.
import { Transform, type TransformCallback } from 'node:stream'
import type { FastifyInstance } from 'fastify'

/** Default budget: sixteen bodies at the 4 MiB bodyLimit. */
export const HTTP_BODIES_BYTES_MAX_DEFAULT = 64 * 1024 * 1024

export class BodiesOverBudgetError extends Error {
  readonly statusCode = 503
  constructor(maxBytes: number) {
    super(`request bodies being received exceed ${maxBytes} bytes; retry later`)
  }
}

export interface BodyBudget {
  /** Bytes of bodies now held. */
  readonly bytes: number
}

/** Counts every request body against maxBytes (0: no budget). */
export function limitBodiesInFlight(app: FastifyInstance, maxBytes: number): BodyBudget {
  let held = 0
  const budget = {
    get bytes() {
      return held
    },
  }
  if (maxBytes <= 0) return budget
  app.addHook('preParsing', (_request, reply, payload, done) => {
    let mine = 0
    let released = false
    const release = () => {
      if (released) return
      released = true
      held -= mine
      mine = 0
    }
    const counter = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        if (released) return callback()
        if (held + chunk.length > maxBytes) {
          release()
          return callback(new BodiesOverBudgetError(maxBytes))
        }
        held += chunk.length
        mine += chunk.length
        callback(null, chunk)
      },
    })
    payload.on('error', (error) => counter.destroy(error))
    payload.pipe(counter)
    // 'close' comes once the response is done or the connection is gone, whichever happens.
    reply.raw.once('close', release)
    done(null, counter)
  })
  return budget
}
