// A selector that does not parse, or exceeds a limit: INVALID_ARGUMENT with the position (0-based character
// offset) in the text, so that every protocol can report it with its own error (STOMP: an ERROR frame).
import { WharfError } from '../../util/errors.js'

export class SelectorError extends WharfError {
  /** Character offset in the selector text where the problem was found. */
  readonly position: number

  constructor(message: string, position: number) {
    super('INVALID_ARGUMENT', `invalid selector at position ${position}: ${message}`)
    this.position = position
  }
}
