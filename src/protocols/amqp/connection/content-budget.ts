// The bytes of message bodies a connection holds before publishing them, summed over its channels: each
// basic.publish reserves its declared body size at the content header, before any body frame is buffered,
// and gives it back once the message is complete or dropped; a publish inside a transaction reserves its body
// again until tx.commit or tx.rollback. Over the bound the connection is closed with 506 RESOURCE_ERROR, so
// channel-max channels × the largest body (or a transaction never committed) cannot fill memory.
import { ReplyCode } from '../codec/index.js'
import { AmqpError } from '../errors.js'

export class ContentBudget {
  readonly #max: number
  #reserved = 0

  constructor(max: number) {
    this.#max = max
  }

  /** Reserves a body's declared size; throws the hard error when the connection's bound would be passed. */
  reserve(bytes: number, classId: number, methodId: number): void {
    if (this.#reserved + bytes > this.#max) {
      throw new AmqpError(
        ReplyCode.RESOURCE_ERROR,
        `message bodies held for this connection before publishing would take ${this.#reserved + bytes} bytes, over the limit of ${this.#max}`,
        classId,
        methodId,
      )
    }
    this.#reserved += bytes
  }

  release(bytes: number): void {
    this.#reserved -= bytes
  }
}
