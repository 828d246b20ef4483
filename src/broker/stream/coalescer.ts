// Same-tick single-message appends to one partition (a socket read burst of AMQP/MQTT publishes, many
// concurrent SQS sends) share one RecordBatch and one storage append: per-message encode, promise and
// syscall costs become per-batch. Appends keep call order; append() callers learn their own offset, publishes
// (appendShared, publish) share the batch's one promise.
import type { PartitionLog } from '../../storage/api.js'
import type { PublishMessage } from '../message.js'
import { recordOf, type Stream } from './stream.js'

/** Bounds of one coalesced batch (records and payload bytes). */
const COALESCE_RECORDS_MAX = 1000
const COALESCE_BYTES_MAX = 512 * 1024

export interface AppendedPosition {
  partition: number
  offset: number
  duplicate: false
}

type Record = ReturnType<Stream['toRecord']>

interface Pending {
  stream: Stream
  partition: number
  records: Record[]
  /** Callers that need their own offset, by index into records. */
  waiters: Array<{ index: number; resolve: (position: AppendedPosition) => void; reject: (error: unknown) => void }>
  bytes: number
  /** One promise for the whole batch, for callers that only need to know it is stored (appendShared). */
  shared: Promise<void> | null
  settleShared: ((error: unknown) => void) | null
}

export class AppendCoalescer {
  readonly #pending = new Map<PartitionLog, Pending>()
  /** The last message publish() made a record of. */
  #recordOf: PublishMessage | null = null
  #recordAt = 0
  #record: Record | null = null

  append(stream: Stream, partition: number, log: PartitionLog, record: Record): Promise<AppendedPosition> {
    const batch = this.#add(stream, partition, log, record)
    const index = batch.records.length - 1
    return new Promise<AppendedPosition>((resolve, reject) => batch.waiters.push({ index, resolve, reject }))
  }

  /**
   * append() for callers that need no offset (publishes through an exchange): every record of a batch gets
   * the batch's one promise, so a publish costs no promise, closure or position object of its own here.
   */
  appendShared(stream: Stream, partition: number, log: PartitionLog, record: Record): Promise<void> {
    const batch = this.#add(stream, partition, log, record)
    if (batch.shared === null) {
      batch.shared = new Promise<void>((resolve, reject) => {
        batch.settleShared = (error) => (error === undefined ? resolve() : reject(error))
      })
    }
    return batch.shared
  }

  /**
   * A publish (no offset needed, no dedup or schema on the stream): appendShared of the message's record. A
   * fan-out appends one message to many streams in a row, so they share its record (size checked per stream).
   */
  publish(stream: Stream, message: PublishMessage, now: number): Promise<void> {
    if (this.#recordOf !== message || this.#recordAt !== now) {
      this.#record = recordOf(message, now)
      this.#recordOf = message
      this.#recordAt = now
    }
    const record = stream.checkSize(this.#record!)
    const partition = stream.choosePartition(message, record.key)
    return this.appendShared(stream, partition, stream.partitionLog(partition), record)
  }

  #add(stream: Stream, partition: number, log: PartitionLog, record: Record): Pending {
    let batch = this.#pending.get(log)
    if (batch === undefined || batch.records.length >= COALESCE_RECORDS_MAX || batch.bytes >= COALESCE_BYTES_MAX) {
      if (batch !== undefined) this.#flush(log, batch)
      const fresh: Pending = {
        stream,
        partition,
        records: [],
        waiters: [],
        bytes: 0,
        shared: null,
        settleShared: null,
      }
      this.#pending.set(log, fresh)
      queueMicrotask(() => {
        if (this.#pending.get(log) === fresh) this.#flush(log, fresh)
      })
      batch = fresh
    }
    batch.records.push(record)
    batch.bytes += (record.value?.length ?? 0) + (record.key?.length ?? 0)
    return batch
  }

  #flush(log: PartitionLog, batch: Pending): void {
    if (this.#pending.get(log) === batch) this.#pending.delete(log)
    const { stream, partition, records, waiters, settleShared } = batch
    const baseOffset = log.nextOffset
    const appended = log.appendRecords(records)
    // Offsets are assigned synchronously, so queue consumers can have the records now, before they are
    // durable (as RabbitMQ delivers before its disk write): only the producer's confirm waits for the fsync.
    // A consumer's ack of such a record is stored once the record is durable; a failed append retracts them.
    const offered = stream.queues.size > 0 && log.nextOffset === baseOffset + records.length
    if (offered) {
      const stored = stream.stored(partition, baseOffset, records)
      for (const queue of stream.queues) queue.offerTail(partition, stored)
    }
    appended.then(
      (result) => {
        stream.stats.messagesIn += records.length
        for (const waiter of waiters) {
          waiter.resolve({ partition, offset: result.baseOffset + waiter.index, duplicate: false })
        }
        settleShared?.(undefined)
      },
      (error) => {
        if (offered) for (const queue of stream.queues) queue.retract(partition, baseOffset)
        for (const waiter of waiters) waiter.reject(error)
        settleShared?.(error ?? new Error('append failed'))
      },
    )
  }
}
