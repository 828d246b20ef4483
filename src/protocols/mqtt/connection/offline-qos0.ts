// Mosquitto's queue_qos0_messages false (the default): what reached a persistent session while it was offline
// is delivered only at QoS 1 and 2. The session queue's offsets when the connection starts consuming it mark
// where "offline" ends; a QoS 0 delivery below them is dropped instead of sent.
import type { Broker } from '../../../broker/broker.js'
import type { StoredMessage } from '../../../broker/message.js'

export class OfflineBoundary {
  /** Per partition of the session queue, the first offset stored while this connection consumes. */
  readonly #onlineFrom: number[]

  private constructor(onlineFrom: number[]) {
    this.#onlineFrom = onlineFrom
  }

  /** The boundary of a session queue now; null when QoS 0 messages are kept for offline sessions. */
  static of(broker: Broker, queueName: string, queueQos0Messages: boolean): OfflineBoundary | null {
    if (queueQos0Messages) return null
    const stream = broker.stream(broker.queue(queueName).streamName)
    return new OfflineBoundary(stream.partitions.map((p) => p.highWatermark))
  }

  /** Whether this session-queue message reached the session while it was offline. */
  queuedOffline(message: StoredMessage): boolean {
    return message.offset < (this.#onlineFrom[message.partition] ?? 0)
  }
}
