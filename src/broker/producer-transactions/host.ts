// What the producer-transaction coordinator needs from the broker, and the shapes of its answers.
import type { ClusterView, MetadataStore } from '../../storage/api.js'
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
  /** The brokers sharing the storage, on a cluster: a transaction's partitions may be owned by others. */
  cluster: ClusterView | undefined
  /** Runs a partition-side operation (txn-admit, txn-marker) on another member, over the cluster link. */
  ask(node: number, op: string, body: Record<string, unknown>): Promise<unknown>
  warn(message: string, details?: Record<string, unknown>): void
}

export interface ActiveProducer {
  producerId: number
  producerEpoch: number
  lastSequence: number
  lastTimestamp: number
}

export type Outcome<T = object> = ({ ok: true } & T) | { ok: false; refusal: TransactionRefusal }
