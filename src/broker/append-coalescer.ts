// Same-tick single-message appends to one partition (a socket read burst of AMQP/MQTT publishes, many
// concurrent SQS sends) share one RecordBatch and one storage append: per-message encode, promise and
// syscall costs become per-batch. Appends keep call order; each caller learns its own offset.
import type { PartitionLog } from '../storage/api.js'
import type { Stream } from './stream.js'

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
  waiters: Array<{ resolve: (position: AppendedPosition) => void; reject: (error: unknown) => void }>
  bytes: number
}

export class AppendCoalescer {
  readonly #pending = new Map<PartitionLog, Pending>()

  append(stream: Stream, partition: number, log: PartitionLog, record: Record): Promise<AppendedPosition> {
    let batch = this.#pending.get(log)
    if (batch === undefined || batch.records.length >= COALESCE_RECORDS_MAX || batch.bytes >= COALESCE_BYTES_MAX) {
      if (batch !== undefined) this.#flush(log, batch)
      const fresh: Pending = { stream, partition, records: [], waiters: [], bytes: 0 }
      this.#pending.set(log, fresh)
      queueMicrotask(() => {
        if (this.#pending.get(log) === fresh) this.#flush(log, fresh)
      })
      batch = fresh
    }
    const target = batch
    target.records.push(record)
    target.bytes += (record.value?.length ?? 0) + (record.key?.length ?? 0)
    return new Promise<AppendedPosition>((resolve, reject) => target.waiters.push({ resolve, reject }))
  }

  #flush(log: PartitionLog, batch: Pending): void {
    if (this.#pending.get(log) === batch) this.#pending.delete(log)
    const { stream, partition, records, waiters } = batch
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
        for (let i = 0; i < waiters.length; i++) {
          waiters[i]!.resolve({ partition, offset: result.baseOffset + i, duplicate: false })
        }
      },
      (error) => {
        if (offered) for (const queue of stream.queues) queue.retract(partition, baseOffset)
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }
}
