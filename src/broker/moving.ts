// Following something that is moving between the brokers of a cluster (a log to a new owner, a queue to a new
// server): an operation the old place answers "not here" (NOT_OWNER) or cannot be reached for (LINK_DOWN) is
// tried again where the cluster view says it is now, after a pause that lets the view learn of the move, for
// as long as a move takes (a dead member's lease running out, then the new owner loading what it took over).
import { isWharfError } from '../util/errors.js'

/** How long an operation follows a move before it fails with the last place's error. */
export const MOVE_WAIT_MS = 20_000
/** The pause between two attempts. */
export const MOVE_RETRY_MS = 200

/** Whether an error means "ask again where it went" rather than a real failure. */
export function isMoving(error: unknown): boolean {
  return isWharfError(error) && (error.code === 'NOT_OWNER' || error.code === 'LINK_DOWN')
}

/**
 * Runs attempt (which looks up where to go each time) until it succeeds, fails otherwise than by a move, or
 * MOVE_WAIT_MS have passed; `retriable` says whether the last attempt's move error may be retried at all.
 */
export async function followMoves<T>(attempt: () => Promise<T>, retriable: () => boolean = () => true): Promise<T> {
  const deadline = Date.now() + MOVE_WAIT_MS
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      if (!isMoving(error) || !retriable() || Date.now() >= deadline) throw error
    }
    await new Promise((resolve) => setTimeout(resolve, MOVE_RETRY_MS))
  }
}
