// The partition side of producer transactions. A transaction's partitions are written by their owners, which on
// a cluster are other brokers than its coordinator: each owner keeps the partition's transaction index (the
// last stable offset, the aborted list) and must know which producer may write transactional batches there. So
// the coordinator has the owner admit the producer (id, epoch, transactional id) when the partition joins the
// transaction, before AddPartitionsToTxn is answered, and has the owner write the marker that ends it there,
// which withdraws the admission; a fenced instance (older epoch) or one whose transaction ended finds none.
// On one broker, or for a partition the coordinator owns itself, the same happens here without the link.

import { WharfError } from '../../util/errors.js'
import { followMoves } from '../moving.js'
import { Stream } from '../stream/stream.js'
import type { ProducerTransactionsHost } from './host.js'
import type { PendingOffset } from './state.js'

interface Admission {
  transactionalId: string
  producerEpoch: number
}

export class TransactionPartitions {
  readonly #host: ProducerTransactionsHost
  /** By partition key, by producer id: who may append transactional batches there now. */
  readonly #admitted = new Map<string, Map<number, Admission>>()
  /**
   * The member coordinating a consumer group when it is another one (set by the Kafka listener on a cluster):
   * a committed transaction's offsets are applied there, since that broker serves the group's offsets.
   */
  locateGroup: ((group: string) => number | undefined) | null = null

  constructor(host: ProducerTransactionsHost) {
    this.#host = host
  }

  /** At the coordinator: the partition's owner admits the producer; false if no owner could be reached. */
  async admitAt(
    stream: Stream,
    partition: number,
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
  ): Promise<boolean> {
    const body = { transactionalId, producerId, producerEpoch, stream: stream.name, partition }
    try {
      await followMoves(() => {
        const owner = this.#ownerElsewhere(stream, partition)
        return owner === undefined
          ? this.admit(transactionalId, producerId, producerEpoch, stream.name, partition)
          : this.#host.ask(owner, 'txn-admit', body)
      })
      return true
    } catch (error) {
      this.#host.warn('a transaction partition could not be admitted', { ...body, error: String(error) })
      return false
    }
  }

  /** At the coordinator: the partition's owner appends the marker ending the producer's transaction there. */
  markAt(
    stream: Stream,
    partition: number,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    now: number,
  ): Promise<unknown> {
    return followMoves(() => {
      const owner = this.#ownerElsewhere(stream, partition)
      if (owner === undefined) return this.marker(stream.name, partition, producerId, producerEpoch, commit, now)
      const body = { stream: stream.name, partition, producerId, producerEpoch, commit, now }
      return this.#host.ask(owner, 'txn-marker', body)
    })
  }

  /** At the coordinator, on commit: the group's coordinator applies an offset the transaction held. */
  commitOffsetAt(o: PendingOffset): Promise<unknown> {
    return followMoves(() => {
      const node = this.locateGroup?.(o.group)
      if (node === undefined) return this.#host.commitOffset(o.group, o.stream, o.partition, o.offset, o.metadata)
      return this.#host.ask(node, 'commit-offset', { ...o })
    })
  }

  /** At the owner: the producer may write transactional batches to the partition (its index tracked first). */
  async admit(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    streamName: string,
    partition: number,
  ): Promise<void> {
    const stream = this.#owned(streamName, partition)
    await this.#host.indexes.track(stream, partition)
    const key = Stream.logName(stream.id, partition)
    const producers = this.#admitted.get(key) ?? new Map<number, Admission>()
    this.#admitted.set(key, producers)
    producers.set(producerId, { transactionalId, producerEpoch })
  }

  /** At the owner: appends the marker and updates the index in one tick; the admission is withdrawn. */
  async marker(
    streamName: string,
    partition: number,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    now: number,
  ): Promise<void> {
    const stream = this.#owned(streamName, partition)
    const key = Stream.logName(stream.id, partition)
    this.#admitted.get(key)?.delete(producerId)
    await this.#host.indexes.appendMarker(stream, partition, producerId, producerEpoch, commit, now)
  }

  /** Whether the partition admitted exactly this producer instance for this transactional id. */
  admitted(transactionalId: string, producerId: number, producerEpoch: number, stream: Stream, partition: number) {
    const admission = this.#admitted.get(Stream.logName(stream.id, partition))?.get(producerId)
    return admission?.transactionalId === transactionalId && admission.producerEpoch === producerEpoch
  }

  /** Forgets a deleted stream's admissions. */
  drop(stream: Stream): void {
    for (let p = 0; p < stream.partitions.length; p++) this.#admitted.delete(Stream.logName(stream.id, p))
  }

  /** The stream, when this broker owns the partition; NOT_OWNER (the coordinator asks the new owner) otherwise. */
  #owned(streamName: string, partition: number): Stream {
    const stream = this.#host.stream(streamName)
    if (stream === undefined || !Number.isInteger(partition) || partition < 0 || partition >= stream.partitions.length)
      throw new WharfError('PARTITION_NOT_FOUND', `no partition ${partition} of '${streamName}'`)
    if (this.#ownerElsewhere(stream, partition) !== undefined)
      throw new WharfError('NOT_OWNER', `partition ${partition} of '${streamName}' is owned by another broker`)
    return stream
  }

  /** The member owning the partition's log when it is another one (undefined: this broker, or no cluster). */
  #ownerElsewhere(stream: Stream, partition: number): number | undefined {
    const cluster = this.#host.cluster
    const owner = cluster?.ownerOf(Stream.logName(stream.id, partition))?.owner
    return owner === undefined || owner === cluster!.nodeId ? undefined : owner
  }
}
