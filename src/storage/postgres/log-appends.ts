// The appends of a PostgreSQL partition log (log.ts) on their way: waiting for a group commit, and in flight.
import type { AppendResult } from '../api.js'
import type { Chunk } from './chunk-index.js'

export interface InFlight {
  group: PendingAppend[]
  chunk: Chunk
  /** Settles when the statement has committed (or failed, or found the log row moved). */
  done: Promise<void>
}

export interface PendingAppend {
  batches: Buffer[]
  bytes: number
  maxTimestamp: number
  result: AppendResult
  resolve: (result: AppendResult) => void
  reject: (error: Error) => void
}
