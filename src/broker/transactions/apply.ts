// Turning a transaction into stored state: `prepare` resolves each send into records per destination
// partition (the partition is chosen here, before the commit record, so recovery knows where each record
// goes), checks sizes, schemas, reject-publish room and the leases of the acks; `applyAppends` appends one
// partition's records (tagged with the transaction id) and hands them to the queues reading it;
// `recoverCommit` re-applies a commit record after a crash, appending only the records not found.
import type { RecordInput } from '../../record/index.js'
import type { CursorStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import type { StoredMessage } from '../message.js'
import type { Queue } from '../queue/queue.js'
import type { DeliveryRef } from '../queue/types.js'
import { assertRoom, refusesWhenFull, withQueueDelay } from '../routing/publisher.js'
import type { ValidationResult } from '../schema/index.js'
import { Stream, type StreamRecord } from '../stream/stream.js'
import { type CommitAck, type CommitRecord, type CommitTarget, isOf, txHeader } from './commit-log.js'
import type { Transaction } from './transaction.js'

export interface ApplyHost {
  queue(name: string): Queue | undefined
  stream(name: string): Stream | undefined
  validator(subject: string): (value: Buffer | null) => ValidationResult
  sink(id: string): ((message: StoredMessage, routingKey: string) => void) | undefined
  now(): number
}

/** One destination partition's share of a commit. */
export interface PartitionWork {
  stream: Stream
  partition: number
  records: StreamRecord[]
  bytes: number
}

export interface Prepared {
  work: PartitionWork[]
  /** Acks of durable queues, recorded in the commit record. */
  durableAcks: CommitAck[]
  /** Reject-publish queues and the room the commit takes in them. */
  room: Map<Queue, { count: number; bytes: number }>
}

/** Everything a commit will store, checked: throws (and nothing is stored) on the first refusal. */
export async function prepare(host: ApplyHost, tx: Transaction): Promise<Prepared> {
  const now = host.now()
  const header = txHeader(tx.id)
  const byPartition = new Map<string, PartitionWork>()
  const room = new Map<Queue, { count: number; bytes: number }>()
  for (const send of tx.sends) {
    for (const d of send.destinations) {
      if (d.kind === 'sink') continue
      const queue = d.kind === 'queue' ? host.queue(d.name) : undefined
      // A queue deleted since the send was added: as a publish routed to a deleted queue, it goes nowhere.
      if (d.kind === 'queue' && queue === undefined) continue
      const stream = host.stream(queue === undefined ? d.name : queue.streamName)
      if (stream === undefined) continue
      const message = queue === undefined ? send.message : withQueueDelay(queue, send.message)
      const base = stream.toRecord(message, now)
      const subject = stream.config.schemaSubject
      if (subject !== null) {
        const verdict = host.validator(subject)(base.value)
        if (!verdict.ok) throw new WharfError('SCHEMA_VIOLATION', `stream '${stream.name}': ${verdict.reason}`)
      }
      const partition = stream.choosePartition(message, base.key)
      const key = `${stream.id}:${partition}`
      let work = byPartition.get(key)
      if (work === undefined) {
        work = { stream, partition, records: [], bytes: 0 }
        byPartition.set(key, work)
      }
      work.records.push({ ...base, headers: [...base.headers, header] })
      const bytes = base.value?.length ?? 0
      work.bytes += bytes + (base.key?.length ?? 0) + 64
      if (queue !== undefined && refusesWhenFull(queue)) {
        const r = room.get(queue) ?? { count: 0, bytes: 0 }
        r.count++
        r.bytes += bytes
        room.set(queue, r)
      }
    }
  }
  for (const [queue, r] of room) {
    const counting = queue.bytesCounted()
    if (counting !== null) await counting
    assertRoom(queue, r.count, r.bytes)
  }
  const durableAcks: CommitAck[] = []
  for (const ref of [...tx.acks, ...tx.nacks.map((n) => n.ref)]) {
    const queue = host.queue(ref.queue)
    if (queue === undefined || !leaseHeld(queue, ref))
      throw new WharfError('LEASE_NOT_FOUND', `the delivery ${ref.offset} of queue '${ref.queue}' is no longer held`, {
        detail: { queue: ref.queue },
      })
  }
  for (const ref of tx.acks) {
    const queue = host.queue(ref.queue)!
    if (queue.config.durable && queue.config.exclusiveOwner === null)
      durableAcks.push({ key: queue.partitions[ref.partition]!.ackKey, offset: ref.offset })
  }
  return { work: [...byPartition.values()], durableAcks, room }
}

export function leaseHeld(queue: Queue, ref: DeliveryRef): boolean {
  return queue.partitions[ref.partition]?.inflight.get(ref.offset)?.id === ref.leaseId
}

/** The commit record's view of the work: durable destinations only (transient ones do not outlive a crash). */
export function targetsOf(work: PartitionWork[]): { targets: CommitTarget[]; records: RecordInput[][] } {
  const targets: CommitTarget[] = []
  const records: RecordInput[][] = []
  for (const w of work) {
    if (w.stream.config.transient) continue
    const log = w.stream.partitions[w.partition]!
    targets.push({
      stream: w.stream.name,
      streamId: w.stream.id,
      partition: w.partition,
      from: log.highWatermark,
      count: w.records.length,
    })
    records.push(w.records)
  }
  return { targets, records }
}

/**
 * Appends one partition's records in a single storage append (in batches within the log's batch limit) and
 * offers them to the queues reading the stream, as a produce does.
 */
export async function applyAppends(stream: Stream, partition: number, records: RecordInput[]): Promise<void> {
  if (records.length === 0) return
  const log = stream.partitions[partition]
  if (log === undefined) return
  const batches: Buffer[] = []
  const limit = log.config.maxBatchBytes - 1024
  let start = 0
  let bytes = 0
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    const size = (r.value?.length ?? 0) + (r.key?.length ?? 0) + 64
    if (i > start && bytes + size > limit) {
      batches.push(Stream.encode(records.slice(start, i)))
      start = i
      bytes = 0
    }
    bytes += size
  }
  batches.push(Stream.encode(records.slice(start)))
  const result = await log.append(batches)
  stream.stats.messagesIn += records.length
  if (stream.queues.size > 0) {
    const stored = stream.stored(partition, result.baseOffset, records as StreamRecord[])
    for (const queue of stream.queues) queue.offerTail(partition, stored)
  }
}

/**
 * Re-applies a commit record found past the applied marker at open (before queues load): for each target, the
 * records of this transaction already in the partition (counted from the high watermark the commit saw) are
 * not appended again; acks are idempotent. Targets whose stream is gone or was re-created are skipped.
 */
export async function recoverCommit(
  commit: CommitRecord,
  streams: (name: string) => Stream | undefined,
  cursors: CursorStore,
): Promise<{ appended: number; acks: number }> {
  const id = Buffer.from(commit.summary.id)
  let appended = 0
  for (let i = 0; i < commit.summary.targets.length; i++) {
    const target = commit.summary.targets[i]!
    const stream = streams(target.stream)
    if (stream === undefined || stream.id !== target.streamId) continue
    const log = stream.partitions[target.partition]
    if (log === undefined) continue
    let found = 0
    let offset = Math.max(target.from, log.logStartOffset)
    while (offset < log.highWatermark) {
      const { records, nextOffset } = await log.readRecords(offset, 1024 * 1024)
      for (const r of records) if (isOf(r, id)) found++
      if (nextOffset <= offset) break
      offset = nextOffset
    }
    const missing = commit.records[i]!.slice(found)
    await applyAppends(stream, target.partition, missing)
    appended += missing.length
  }
  const byKey = new Map<string, number[]>()
  for (const a of commit.summary.acks) {
    const list = byKey.get(a.key) ?? []
    list.push(a.offset)
    byKey.set(a.key, list)
  }
  for (const [key, offsets] of byKey) await cursors.ack(key, offsets)
  return { appended, acks: commit.summary.acks.length }
}
