// The transaction coordinator (KIP-98) for producers with a transactional id: stable producer ids with an
// epoch that fences older instances, the partitions and consumer-group offsets of the open transaction,
// and its end: the decision is persisted (PrepareCommit/PrepareAbort), then a marker goes to every partition
// and, on commit, the offsets are applied, then the transaction is complete. Every state change is in the
// metadata store, so a restart (or a crash) finishes a decided transaction and aborts an undecided one.
import type { Stream } from '../stream/stream.js'
import type { Outcome, ProducerTransactionsHost } from './host.js'
import type { StableView } from './indexes.js'
import type { ProducerTransactionOptions } from './options.js'
import { TransactionPartitions } from './partitions.js'
import { TransactionRecords } from './records.js'
import { abortOpenInPartitions, type DescribedProducer, describeProducers } from './recovery.js'
import {
  bumpEpoch,
  checkProducer,
  emptyRecord,
  hasPartition,
  type PendingOffset,
  sameAtRest,
  type TransactionRecord,
  type TransactionRefusal,
} from './state.js'

const SNAPSHOT_EVERY_MS = 30_000

const refuse = (refusal: TransactionRefusal): { ok: false; refusal: TransactionRefusal } => ({ ok: false, refusal })

export class ProducerTransactions {
  readonly #host: ProducerTransactionsHost
  /** Admissions and markers at the partitions' owners (partitions.ts). */
  readonly partitions: TransactionPartitions
  /** The transactional ids' records (records.ts); on a cluster the Kafka listener says which it coordinates. */
  readonly records: TransactionRecords
  /** One operation at a time per transactional id. */
  readonly #locks = new Map<string, Promise<unknown>>()
  /** A write an operation answered before (its successor on the same id waits for it). */
  readonly #deferred = new Map<string, Promise<void>>()
  readonly timeoutMsMax: number
  readonly #partitionsMax: number
  readonly #idsMax: number
  /** Kafka transactional.id.expiration.ms: an id with no transaction for this long is forgotten. */
  readonly #expirationMs: number
  #timer: NodeJS.Timeout | null = null
  #lastSnapshot = 0

  private constructor(host: ProducerTransactionsHost, options: ProducerTransactionOptions) {
    this.#host = host
    this.partitions = new TransactionPartitions(host)
    this.timeoutMsMax = options.timeoutMsMax ?? 15 * 60_000
    this.#partitionsMax = options.partitionsMax ?? 10_000
    this.#idsMax = options.transactionalIdsMax ?? 100_000
    this.#expirationMs = options.transactionalIdExpirationMs ?? 7 * 24 * 3_600_000
    this.records = new TransactionRecords(host, Math.max(1, Math.floor(this.#expirationMs / 8)))
  }

  /** Loads the stored transactions and finishes what a stop left half done. */
  static async open(host: ProducerTransactionsHost, options: ProducerTransactionOptions = {}) {
    const coordinator = new ProducerTransactions(host, options)
    // On a cluster this is done per id by the broker that comes to coordinate it (claim), once the logs have
    // owners to write markers to: at start the others may be coordinating those transactions.
    if (host.cluster === undefined) {
      for (const record of coordinator.records.values()) {
        if (record.state === 'PrepareCommit') await coordinator.#complete(record, true)
        else if (record.state === 'PrepareAbort') await coordinator.#complete(record, false)
        else if (record.state === 'Ongoing') await coordinator.#abortAndFence(record, 'broker restarted')
      }
      await abortOpenInPartitions(host, coordinator.records.values(), async (record) => {
        record.state = 'CompleteAbort'
        record.abandonedEpoch = record.producerEpoch
        await bumpEpoch(record, host)
        await coordinator.records.persist(record)
      })
    }
    const every = options.checkEveryMs ?? 1000
    coordinator.#timer = setInterval(() => coordinator.#tick(), every)
    coordinator.#timer.unref()
    return coordinator
  }

  #serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const run = (this.#locks.get(id) ?? Promise.resolve()).then(work)
    // The next operation on the id also waits for a write the last one left running (see end()).
    const tail = run
      .catch(() => {})
      .then(() => this.#deferred.get(id))
      .catch((error) =>
        this.#host.warn('producer transaction write failed', { transactionalId: id, error: String(error) }),
      )
      .finally(() => this.#deferred.delete(id))
    this.#locks.set(id, tail)
    void tail.then(() => {
      if (this.#locks.get(id) === tail) this.#locks.delete(id)
    })
    return run
  }

  /** The id's record; on a cluster, a broker that has just come to coordinate it first finishes what was decided. */
  async #claim(id: string, reread = false): Promise<TransactionRecord | undefined> {
    const { record, claimed } = await this.records.claim(id, reread)
    if (claimed && (record?.state === 'PrepareCommit' || record?.state === 'PrepareAbort'))
      await this.#complete(record, record.state === 'PrepareCommit')
    return record
  }

  /** On a cluster an open transaction's partitions and offsets are stored too: another broker may take it over. */
  async #persistOpen(record: TransactionRecord): Promise<void> {
    if (this.#host.cluster !== undefined) await this.records.persist(record)
  }

  /**
   * InitProducerId with a transactional id: the first call allocates a producer id; every later one ends
   * (aborts, or completes if already decided) the previous instance's transaction and bumps the epoch, which
   * fences that instance. `expected` is the caller's current id/epoch (KIP-360), if it has one.
   */
  init(
    transactionalId: string,
    timeoutMs: number,
    expected?: { producerId: number; producerEpoch: number },
  ): Promise<Outcome<{ producerId: number; producerEpoch: number }>> {
    return this.#serial(transactionalId, async () => {
      if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > this.timeoutMsMax)
        return refuse('INVALID_TRANSACTION_TIMEOUT')
      let record = await this.#claim(transactionalId)
      if (record === undefined) {
        if (this.records.size >= this.#idsMax) return refuse('LIMIT_EXCEEDED')
        const { producerId } = await this.#host.nextProducerId()
        record = emptyRecord(transactionalId, producerId, timeoutMs)
        await this.records.persist(record)
        this.records.set(transactionalId, record)
        return { ok: true, producerId, producerEpoch: 0 }
      }
      if (expected !== undefined && expected.producerId >= 0) {
        if (expected.producerId !== record.producerId) return refuse('INVALID_PRODUCER_ID_MAPPING')
        // Only the current instance, or the one a timeout fenced, may bump the epoch: never an older zombie.
        if (expected.producerEpoch !== record.producerEpoch && expected.producerEpoch !== record.abandonedEpoch)
          return refuse('PRODUCER_FENCED')
      }
      if (record.state === 'PrepareCommit' || record.state === 'PrepareAbort')
        await this.#complete(record, record.state === 'PrepareCommit')
      else if (record.state === 'Ongoing') await this.#end(record, false)
      await bumpEpoch(record, this.#host)
      record.abandonedEpoch = undefined
      record.timeoutMs = timeoutMs
      await this.records.persist(record)
      return { ok: true, producerId: record.producerId, producerEpoch: record.producerEpoch }
    })
  }

  /** AddPartitionsToTxn: the partitions the transaction will write; the transaction begins with the first. */
  addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: Array<[stream: string, partition: number]>,
  ): Promise<Outcome<{ failed: Map<string, TransactionRefusal> }>> {
    return this.#serial(transactionalId, async () => {
      const record = await this.#claim(transactionalId)
      const refusal = checkProducer(record, producerId, producerEpoch)
      if (refusal !== null) return refuse(refusal)
      const failed = new Map<string, TransactionRefusal>()
      const added: Array<[Stream, string, number]> = []
      for (const [name, partition] of partitions) {
        const stream = this.#host.stream(name)
        if (
          stream === undefined ||
          !Number.isInteger(partition) ||
          partition < 0 ||
          partition >= stream.partitions.length
        )
          failed.set(`${name}:${partition}`, 'UNKNOWN_PARTITION')
        else if (!hasPartition(record!, name, partition)) added.push([stream, name, partition])
      }
      if (failed.size > 0) return { ok: true, failed }
      if (record!.partitions.length + added.length > this.#partitionsMax) return refuse('LIMIT_EXCEEDED')
      this.#begin(record!)
      // Each owner admits the producer (its index durable first) before a transactional batch can reach it; one
      // admitted is in the transaction (its marker withdraws the admission), one not reached is retried.
      // On one broker not persisted: a restart finds the open transaction in the partition indexes and aborts it.
      for (const [stream, name, partition] of added) {
        if (await this.partitions.admitAt(stream, partition, transactionalId, producerId, producerEpoch))
          record!.partitions.push([name, partition])
        else failed.set(`${name}:${partition}`, 'UNKNOWN_PARTITION')
      }
      await this.#persistOpen(record!)
      return { ok: true, failed }
    })
  }

  /** AddOffsetsToTxn: the consumer group whose offsets the transaction will commit. */
  addGroup(transactionalId: string, producerId: number, producerEpoch: number, group: string): Promise<Outcome> {
    return this.#serial(transactionalId, async () => {
      const record = await this.#claim(transactionalId)
      const refusal = checkProducer(record, producerId, producerEpoch)
      if (refusal !== null) return refuse(refusal)
      this.#begin(record!)
      if (!record!.groups.includes(group)) record!.groups.push(group)
      await this.#persistOpen(record!)
      return { ok: true }
    })
  }

  /** TxnOffsetCommit: offsets applied only if the transaction commits. */
  commitOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    offsets: PendingOffset[],
  ): Promise<Outcome> {
    return this.#serial(transactionalId, async () => {
      const record = await this.#claim(transactionalId)
      const refusal = checkProducer(record, producerId, producerEpoch)
      if (refusal !== null) return refuse(refusal)
      if (record!.state !== 'Ongoing') return refuse('INVALID_TXN_STATE')
      for (const o of offsets) {
        const same = (p: PendingOffset) => p.group === o.group && p.stream === o.stream && p.partition === o.partition
        const at = record!.offsets.findIndex(same)
        if (at >= 0) record!.offsets[at] = o
        else if (record!.offsets.length >= this.#partitionsMax) return refuse('LIMIT_EXCEEDED')
        else record!.offsets.push(o)
      }
      await this.#persistOpen(record!)
      return { ok: true }
    })
  }

  /** EndTxn: commit or abort the open transaction; answered once every marker is durable. */
  end(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<Outcome> {
    return this.#serial(transactionalId, async () => {
      const record = await this.#claim(transactionalId, true)
      const refusal = checkProducer(record, producerId, producerEpoch)
      if (refusal !== null) return refuse(refusal)
      const r = record!
      if (r.state === 'Ongoing') {
        // Answered once the markers are durable; the "complete" record is written behind the answer. Nothing
        // can reach the id's partitions before it is durable: producing needs an AddPartitions, which waits
        // for it, and a restart before it only completes the same transaction again.
        await this.#end(r, commit, true)
        return { ok: true }
      }
      // Nothing open: a retry of the same decision, or an empty transaction, succeeds; the opposite does not.
      if ((r.state === 'CompleteCommit' && !commit) || (r.state === 'CompleteAbort' && commit))
        return refuse('INVALID_TXN_STATE')
      return { ok: true }
    })
  }

  /** Whether a transactional batch may be appended to the partition (the partition must be in the transaction). */
  checkAppend(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    stream: string,
    partition: number,
  ): TransactionRefusal | null {
    const known = this.#host.stream(stream)
    if (known !== undefined && this.partitions.admitted(transactionalId, producerId, producerEpoch, known, partition))
      return null
    // Not admitted here: the coordinator's record, or on a cluster the one it stored before answering
    // AddPartitionsToTxn (the partition moved here after its owner admitted the producer).
    const { records } = this
    const record = records.acting(transactionalId) ? records.get(transactionalId) : records.stored(transactionalId)
    const refusal = checkProducer(record, producerId, producerEpoch)
    if (refusal !== null) return refusal
    if (record!.state !== 'Ongoing' || !hasPartition(record!, stream, partition)) return 'INVALID_TXN_STATE'
    return null
  }

  #begin(record: TransactionRecord): void {
    if (record.state === 'Ongoing') return
    record.state = 'Ongoing'
    record.startedAt = this.#host.now()
    record.partitions = []
    record.groups = []
    record.offsets = []
  }

  async #end(record: TransactionRecord, commit: boolean, deferComplete = false): Promise<void> {
    record.state = commit ? 'PrepareCommit' : 'PrepareAbort'
    if (!commit) record.offsets = []
    // The decision: from here on a restart completes it. With one partition and no offsets the marker alone
    // is the decision (one append is atomic; a restart aborts a transaction whose marker is missing).
    if (record.partitions.length > 1 || record.offsets.length > 0) await this.records.persist(record)
    await this.#complete(record, commit, deferComplete)
  }

  /** Writes the markers (and, on commit, the offsets) of a decided transaction, then marks it complete. */
  async #complete(record: TransactionRecord, commit: boolean, deferPersist = false): Promise<void> {
    const now = this.#host.now()
    await Promise.all(
      record.partitions.map(async ([name, partition]) => {
        const stream = this.#host.stream(name)
        if (stream === undefined || partition >= stream.partitions.length) return // deleted meanwhile
        await this.partitions.markAt(stream, partition, record.producerId, record.producerEpoch, commit, now)
      }),
    )
    if (commit) for (const o of record.offsets) await this.partitions.commitOffsetAt(o)
    record.state = commit ? 'CompleteCommit' : 'CompleteAbort'
    record.startedAt = -1
    record.partitions = []
    record.groups = []
    record.offsets = []
    // A run of transactions that end alike leaves the stored record as it is (one partition, no offsets: the
    // marker was the decision, nothing was persisted for it); its time of use is refreshed now and then.
    const stored = this.records.stored(record.transactionalId)
    if (sameAtRest(stored, record) && now - stored!.updatedAt < this.records.refreshMs) {
      record.updatedAt = now
      return
    }
    const persisted = this.records.persist(record)
    if (deferPersist) this.#deferred.set(record.transactionalId, persisted)
    else await persisted
  }

  /** Aborts an open transaction the producer abandoned, fencing it: its next request fails with PRODUCER_FENCED. */
  async #abortAndFence(record: TransactionRecord, reason: string): Promise<void> {
    this.#host.warn('aborting a producer transaction', { transactionalId: record.transactionalId, reason })
    await this.#end(record, false)
    record.abandonedEpoch = record.producerEpoch
    await bumpEpoch(record, this.#host)
    await this.records.persist(record)
  }

  /** Runs `work` in the id's turn, in the background; a failure is only logged. */
  #background(id: string, what: string, work: (record: TransactionRecord) => Promise<void>): void {
    const run = async () => {
      const record = this.records.get(id)
      if (record !== undefined) await work(record)
    }
    void this.#serial(id, run).catch((error) => this.#host.warn(what, { transactionalId: id, error: String(error) }))
  }

  #tick(): void {
    const now = this.#host.now()
    const overdue = (r: TransactionRecord) => r.state === 'Ongoing' && this.#host.now() - r.startedAt >= r.timeoutMs
    // On a cluster: the ids this broker has come to coordinate are read again (a dead coordinator's open
    // transaction then times out here), and only those read are acted on.
    for (const id of this.records.unclaimed())
      void this.#serial(id, () => this.#claim(id)).catch((error) =>
        this.#host.warn('taking a transactional id over failed', { transactionalId: id, error: String(error) }),
      )
    for (const record of this.records.values()) {
      const id = record.transactionalId
      if (!this.records.acting(id)) continue
      if (overdue(record))
        this.#background(id, 'transaction timeout abort failed', async (current) => {
          if (overdue(current) && (await this.records.stillMine(id)))
            await this.#abortAndFence(current, 'transaction timed out')
        })
      else if (this.#idle(record, now) && !this.#locks.has(id))
        this.#background(id, 'transactional id expiry failed', async (current) => {
          if (this.#idle(current, this.#host.now()) && (await this.records.stillMine(id))) await this.records.delete(id)
        })
    }
    if (now - this.#lastSnapshot > SNAPSHOT_EVERY_MS) {
      this.#lastSnapshot = now
      void this.#host.indexes
        .saveAll()
        .catch((error) => this.#host.warn('transaction index snapshot failed', { error: String(error) }))
    }
  }

  /** No transaction open or being completed, and none for transactional.id.expiration.ms. */
  #idle(record: TransactionRecord, now: number): boolean {
    const settled = record.state === 'Empty' || record.state === 'CompleteCommit' || record.state === 'CompleteAbort'
    return settled && now - record.updatedAt >= this.#expirationMs
  }

  /** A transactional id's record as this broker holds it. */
  get(transactionalId: string): Readonly<TransactionRecord> | undefined {
    return this.records.get(transactionalId)
  }

  /** As its coordinator acts on it (DescribeTransactions): on a cluster read again if just taken over. */
  describe(transactionalId: string): Promise<Readonly<TransactionRecord> | undefined> {
    return this.#serial(transactionalId, () => this.#claim(transactionalId))
  }

  /** The records of the ids this broker coordinates (ListTransactions asks every broker). */
  list(): Array<Readonly<TransactionRecord>> {
    return [...this.records.values()].filter((r) => this.records.mine(r.transactionalId))
  }

  /** The last stable offset of a partition and the aborted transactions in [from, to) (read_committed). */
  stableView(stream: Stream, partition: number, from: number, to: number): Promise<StableView> {
    return this.#host.indexes.stableView(stream, partition, from, to)
  }

  /** The producers a partition tracks, with the first offset of each one's open transaction (-1: none). */
  describeProducers(name: string, partition: number): Promise<DescribedProducer[] | undefined> {
    return describeProducers(this.#host, name, partition)
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    await Promise.all(this.#locks.values())
    await this.#host.indexes.saveAll()
  }
}
