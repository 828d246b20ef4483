// The transactional ids' records as the coordinator holds them: read from the catalog at start and written back
// on each change that must survive (persist). On a cluster each id has one coordinator at a time, chosen among
// the live members (the Kafka listener says which: `coordinates`), and the catalog holds what the last one
// persisted, which on a cluster includes an open transaction's partitions and offsets. So a broker that comes
// to coordinate an id reads its record again from the database before it acts on it (claim), and acts only
// on the ids it coordinates: another broker's transaction is never timed out or expired from a stale copy.
import type { ClusterMember } from '../../storage/api.js'
import type { ProducerTransactionsHost } from './host.js'
import { isRecord, type TransactionRecord } from './state.js'

const KIND = 'producer-transaction'

export class TransactionRecords {
  readonly #host: ProducerTransactionsHost
  readonly #records = new Map<string, TransactionRecord>()
  /** Ids whose record was read since this broker last came to coordinate them (on a cluster). */
  readonly #claimed = new Set<string>()
  /** How stale the stored time of use of a record may get before it is written again. */
  readonly refreshMs: number
  /**
   * Whether this broker coordinates a transactional id now, among the given live members or as it last saw
   * them (set by the Kafka listener on a cluster).
   */
  coordinates: ((transactionalId: string, members?: readonly ClusterMember[]) => boolean) | null = null

  constructor(host: ProducerTransactionsHost, refreshMs: number) {
    this.#host = host
    this.refreshMs = refreshMs
    for (const [id, value] of host.metadata.list(KIND)) {
      const record = this.#fromCatalog(id, value)
      if (record !== undefined) this.#records.set(id, record)
    }
  }

  /** Stored values are frozen: the coordinator works on its own copy. */
  #fromCatalog(id: string, value: unknown): TransactionRecord | undefined {
    if (!isRecord(value)) {
      this.#host.warn('ignoring a malformed producer transaction record', { transactionalId: id })
      return undefined
    }
    const record = structuredClone(value)
    // The last use may be up to the refresh interval later than the stored time (see the coordinator's #complete).
    record.updatedAt = Math.min(this.#host.now(), record.updatedAt + this.refreshMs)
    return record
  }

  get(id: string): TransactionRecord | undefined {
    return this.#records.get(id)
  }

  set(id: string, record: TransactionRecord): void {
    this.#records.set(id, record)
  }

  async delete(id: string): Promise<void> {
    await this.#host.metadata.delete(KIND, id)
    this.#records.delete(id)
  }

  get size(): number {
    return this.#records.size
  }

  values(): IterableIterator<TransactionRecord> {
    return this.#records.values()
  }

  stored(id: string): TransactionRecord | undefined {
    return this.#host.metadata.get<TransactionRecord>(KIND, id)
  }

  async persist(record: TransactionRecord): Promise<void> {
    record.updatedAt = this.#host.now()
    await this.#host.metadata.put(KIND, record.transactionalId, record)
  }

  /** Whether this broker acts on the id now: always on one broker; on a cluster only with a Kafka listener. */
  mine(id: string): boolean {
    if (this.#host.cluster === undefined) return true
    return this.coordinates?.(id) ?? false
  }

  /**
   * Whether this broker still coordinates the id as the database has the members now: asked before acting on
   * its own (a timeout, an expiry), since a broker paused past its lease runs its timers before it learns that
   * another broker has taken its ids over.
   */
  async stillMine(id: string): Promise<boolean> {
    const cluster = this.#host.cluster
    if (cluster === undefined) return true
    const members = await cluster.readMembers()
    return this.coordinates?.(id, members) ?? false
  }

  /** Whether this broker may act on its copy of the id's record unasked (time it out, expire it). */
  acting(id: string): boolean {
    return this.mine(id) && (this.#host.cluster === undefined || this.#claimed.has(id))
  }

  /**
   * The id's record as this broker may act on it. On a cluster it is read again from the database when this
   * broker has come to coordinate the id since it last read it (`claimed` then says so, for the caller to
   * finish what the previous coordinator decided), and when `reread` asks (before a transaction is ended: a
   * broker paused past its lease may still believe it coordinates the id while another has taken it over and
   * fenced the producer; a different producer id or epoch stored is then the record to answer by).
   */
  async claim(id: string, reread = false): Promise<{ record: TransactionRecord | undefined; claimed: boolean }> {
    const held = this.#records.get(id)
    const claimed = !this.#claimed.has(id)
    if (this.#host.cluster === undefined || !(claimed || reread)) return { record: held, claimed: false }
    await this.#host.metadata.refresh?.(KIND, id)
    const value = this.#host.metadata.get<TransactionRecord>(KIND, id)
    this.#claimed.add(id)
    const same = value?.producerId === held?.producerId && value?.producerEpoch === held?.producerEpoch
    if (!claimed && (value === undefined || same)) return { record: held, claimed }
    const record = value === undefined ? undefined : this.#fromCatalog(id, value)
    if (record === undefined) this.#records.delete(id)
    else this.#records.set(id, record)
    return { record, claimed }
  }

  /**
   * The partitions (`stream` NUL `partition`) whose offsets in the group an undecided transaction holds
   * (TxnOffsetCommit, applied only on commit): a reader asking for stable offsets is told to retry for these.
   * On a cluster the transactions' coordinators are any brokers, and each stores an open transaction's offsets
   * before answering TxnOffsetCommit: the catalog's records are read.
   */
  pendingOffsets(group: string): Set<string> {
    const pending = new Set<string>()
    const records =
      this.#host.cluster === undefined
        ? [...this.#records.values()]
        : this.#host.metadata.list<TransactionRecord>(KIND).map(([, record]) => record)
    for (const record of records) {
      if (record.state === 'CompleteCommit' || record.state === 'CompleteAbort') continue
      for (const o of record.offsets ?? []) if (o.group === group) pending.add(`${o.stream}\u0000${o.partition}`)
    }
    return pending
  }

  /**
   * On a cluster: forgets which ids were read for ids another broker coordinates now, and returns the ids in
   * the catalog this broker coordinates and has not read since it came to (for the tick to claim them).
   */
  unclaimed(): string[] {
    if (this.#host.cluster === undefined) return []
    for (const id of this.#claimed) if (!this.mine(id)) this.#claimed.delete(id)
    const ids: string[] = []
    for (const [id] of this.#host.metadata.list(KIND)) if (!this.#claimed.has(id) && this.mine(id)) ids.push(id)
    return ids
  }
}
