// The durable record of one transactional id and the checks every transactional request makes against it.
// Kafka's TransactionMetadata, with its states: Empty → Ongoing → PrepareCommit/PrepareAbort →
// CompleteCommit/CompleteAbort (→ Ongoing again with the next AddPartitions).

export type TransactionState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'

export const TRANSACTION_STATES: readonly TransactionState[] = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
]

/** Why a transactional request is refused (adapters map these onto their protocol's codes). */
export type TransactionRefusal =
  /** A newer instance with the same transactional id took over (its epoch is higher). */
  | 'PRODUCER_FENCED'
  /** The producer id does not belong to the transactional id (or the id is unknown). */
  | 'INVALID_PRODUCER_ID_MAPPING'
  /** The request does not fit the transaction's state (e.g. producing to a partition not added). */
  | 'INVALID_TXN_STATE'
  | 'INVALID_TRANSACTION_TIMEOUT'
  | 'UNKNOWN_PARTITION'
  | 'LIMIT_EXCEEDED'

export interface PendingOffset {
  group: string
  stream: string
  partition: number
  offset: number
  metadata: string
}

export interface TransactionRecord {
  transactionalId: string
  producerId: number
  producerEpoch: number
  timeoutMs: number
  state: TransactionState
  /** When the current transaction began (its first AddPartitions/AddOffsets), -1 outside one. */
  startedAt: number
  updatedAt: number
  /** Stream partitions written in the current transaction. */
  partitions: Array<[stream: string, partition: number]>
  groups: string[]
  /** Offsets committed in the transaction, applied on commit (persisted with PrepareCommit). */
  offsets: PendingOffset[]
  /** The epoch a timeout (or restart) abort fenced: that instance may still re-initialise (KIP-360). */
  abandonedEpoch?: number
}

/** Kafka's epoch check: same producer id and the current epoch, else the refusal a client acts on. */
export function checkProducer(
  record: TransactionRecord | undefined,
  producerId: number,
  producerEpoch: number,
): TransactionRefusal | null {
  if (record === undefined || record.producerId !== producerId) return 'INVALID_PRODUCER_ID_MAPPING'
  if (producerEpoch !== record.producerEpoch) return 'PRODUCER_FENCED'
  return null
}

export function hasPartition(record: TransactionRecord, stream: string, partition: number): boolean {
  return record.partitions.some(([s, p]) => s === stream && p === partition)
}

export function isRecord(value: unknown): value is TransactionRecord {
  const r = value as TransactionRecord
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.transactionalId === 'string' &&
    Number.isSafeInteger(r.producerId) &&
    Number.isInteger(r.producerEpoch) &&
    TRANSACTION_STATES.includes(r.state) &&
    Array.isArray(r.partitions) &&
    Array.isArray(r.groups) &&
    Array.isArray(r.offsets)
  )
}

/**
 * Whether the stored record already says what a completed transaction's record would (same producer, epoch,
 * timeout and end state, nothing open): then completing needs no write, and the id's next request no wait.
 */
export function sameAtRest(stored: TransactionRecord | undefined, record: TransactionRecord): boolean {
  return (
    stored !== undefined &&
    stored.state === record.state &&
    stored.producerId === record.producerId &&
    stored.producerEpoch === record.producerEpoch &&
    stored.timeoutMs === record.timeoutMs &&
    stored.abandonedEpoch === record.abandonedEpoch &&
    stored.startedAt === -1 &&
    stored.partitions.length === 0 &&
    stored.groups.length === 0 &&
    stored.offsets.length === 0
  )
}

/** A transactional id's first record: its producer id at epoch 0, no transaction yet. */
export function emptyRecord(transactionalId: string, producerId: number, timeoutMs: number): TransactionRecord {
  return {
    transactionalId,
    producerId,
    producerEpoch: 0,
    timeoutMs,
    state: 'Empty',
    startedAt: -1,
    updatedAt: 0,
    partitions: [],
    groups: [],
    offsets: [],
  }
}

/** Epochs are int16; near the end a new producer id starts over at 0 (Kafka does the same). */
const EPOCH_MAX = 32767

/** The next epoch of the record's producer (fencing the instances before it). */
export async function bumpEpoch(
  record: TransactionRecord,
  ids: { nextProducerId(): Promise<{ producerId: number }> },
): Promise<void> {
  if (record.producerEpoch >= EPOCH_MAX - 1) {
    record.producerId = (await ids.nextProducerId()).producerId
    record.producerEpoch = 0
  } else record.producerEpoch++
}
