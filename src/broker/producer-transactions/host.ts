// What the producer-transaction coordinator needs from the broker, and the shapes of its answers.
import type { MetadataStore } from '../../storage/api.js'
import type { Stream } from '../stream/stream.js'
import type { TransactionIndexes } from './indexes.js'
import type { TransactionRefusal } from './state.js'

export interface ProducerTransactionsHost {
  metadata: MetadataStore
  nextProducerId(): Promise<{ producerId: number; producerEpoch: number }>
  indexes: TransactionIndexes
  stream(name: string): Stream | undefined
  streams(): Iterable<Stream>
  /** The partition's idempotent-producer state (DescribeProducers). */
  producerState(stream: Stream, partition: number): Promise<{ producers(): ActiveProducer[] }>
  commitOffset(group: string, stream: string, partition: number, offset: number, metadata: string): Promise<void>
  now(): number
  warn(message: string, details?: Record<string, unknown>): void
}

export interface ActiveProducer {
  producerId: number
  producerEpoch: number
  lastSequence: number
  lastTimestamp: number
}

export type Outcome<T = object> = ({ ok: true } & T) | { ok: false; refusal: TransactionRefusal }
