// A PartitionLog held in memory, for streams that must not outlive the process (non-durable AMQP queues,
// exclusive queues, clean MQTT sessions). Same contract as the disk log — RecordBatch bytes in, dense
// offsets, reads of whole batches — minus files and fsync: an append is readable and resolved at once.
// Memory is bounded by what the broker keeps unacked: retention and deleteRecordsBefore drop whole batches.
import { encodeBatch, type Record, type RecordInput } from '../../../record/index.js'
import { unpinned } from '../../../util/bytes.js'
import { WharfError } from '../../../util/errors.js'
import type { AppendResult, CompactionResult, LogConfig, PartitionLog, ReadResult } from '../../api.js'
import { assignOffsets, decodeRecords } from '../partition-log/append-check.js'

/** One append: stored as the batch bytes it came as, or as record objects (encoded only if read as bytes). */
interface Chunk {
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
  bytes: number
  batch: Buffer | null
  records: Record[] | null
}

/** Accounting overhead per record object (object, headers array), so sizeBytes tracks memory roughly. */
const RECORD_OVERHEAD_BYTES = 96

/** Keys and values are kept as given unless they are small views of big buffers (socket reads). */
function own(value: Buffer | null | undefined): Buffer | null {
  return value == null ? null : unpinned(value)
}

export class MemoryPartitionLog implements PartitionLog {
  readonly name: string
  #config: LogConfig
  /** Live chunks are #chunks[#head..]; the dead prefix is compacted away in bulk. */
  #chunks: Chunk[] = []
  #head = 0
  #logStartOffset = 0
  #nextOffset = 0
  #bytes = 0
  #closed = false
  readonly #listeners = new Set<(nextOffset: number) => void>()

  constructor(name: string, config: LogConfig) {
    this.name = name
    this.#config = config
  }

  get logStartOffset(): number {
    return this.#logStartOffset
  }
  get nextOffset(): number {
    return this.#nextOffset
  }
  get highWatermark(): number {
    return this.#nextOffset
  }
  get sizeBytes(): number {
    return this.#bytes
  }
  get segmentCount(): number {
    return this.#chunks.length - this.#head
  }
  get config(): Readonly<LogConfig> {
    return this.#config
  }

  append(batches: Buffer[]): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new WharfError('LOG_CLOSED', `log ${this.name} is closed`))
    let infos: ReturnType<typeof assignOffsets>
    try {
      infos = assignOffsets(batches, this.#nextOffset, this.#config.maxBatchBytes)
    } catch (error) {
      return Promise.reject(error)
    }
    const result: AppendResult = {
      baseOffset: this.#nextOffset,
      lastOffset: infos[infos.length - 1]!.lastOffset,
      appendTime: Date.now(),
    }
    for (let i = 0; i < batches.length; i++) {
      const { baseOffset, lastOffset, maxTimestamp } = infos[i]!
      const batch = unpinned(batches[i]!)
      this.#push({ baseOffset, lastOffset, maxTimestamp, bytes: batch.length, batch, records: null })
    }
    return this.#appended(result)
  }

  appendRecords(input: RecordInput[]): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new WharfError('LOG_CLOSED', `log ${this.name} is closed`))
    if (input.length === 0)
      return Promise.reject(new WharfError('INVALID_ARGUMENT', 'append needs at least one record'))
    const now = Date.now()
    const baseOffset = this.#nextOffset
    const records: Record[] = new Array(input.length)
    let bytes = 0
    let maxTimestamp = -1
    for (let i = 0; i < input.length; i++) {
      const r = input[i]!
      const record: Record = {
        offset: baseOffset + i,
        timestamp: r.timestamp ?? now,
        key: own(r.key),
        value: own(r.value),
        headers: r.headers ?? [],
      }
      bytes += RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0)
      for (const h of record.headers) bytes += h.key.length + (h.value?.length ?? 0)
      if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp
      records[i] = record
    }
    if (bytes > this.#config.maxBatchBytes + RECORD_OVERHEAD_BYTES * input.length) {
      return Promise.reject(
        new WharfError('RECORD_TOO_LARGE', `batch of ${bytes} bytes exceeds ${this.#config.maxBatchBytes}`),
      )
    }
    const lastOffset = baseOffset + input.length - 1
    this.#push({ baseOffset, lastOffset, maxTimestamp, bytes, batch: null, records })
    return this.#appended({ baseOffset, lastOffset, appendTime: now })
  }

  #push(chunk: Chunk): void {
    this.#chunks.push(chunk)
    this.#bytes += chunk.bytes
  }

  #appended(result: AppendResult): Promise<AppendResult> {
    this.#nextOffset = result.lastOffset + 1
    for (const listener of this.#listeners) listener(this.#nextOffset)
    return Promise.resolve(result)
  }

  /** A chunk's bytes; record chunks are encoded on first byte read (Kafka fetch, browse) and kept. */
  #batchOf(chunk: Chunk): Buffer {
    if (chunk.batch === null) {
      const batch = encodeBatch(chunk.records!, { baseOffset: chunk.baseOffset })
      this.#bytes += batch.length
      chunk.bytes += batch.length
      chunk.batch = batch
    }
    return chunk.batch
  }

  /** Index of the live chunk holding offset (or the first one after it). */
  #chunkIndexFor(offset: number): number {
    let lo = this.#head
    let hi = this.#chunks.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.#chunks[mid]!.lastOffset < offset) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  #checkReadable(fromOffset: number): void {
    if (this.#closed) throw new WharfError('LOG_CLOSED', `log ${this.name} is closed`)
    if (!Number.isSafeInteger(fromOffset) || fromOffset < this.#logStartOffset || fromOffset > this.#nextOffset) {
      throw new WharfError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${fromOffset} is outside [${this.#logStartOffset}, ${this.#nextOffset}] of ${this.name}`,
      )
    }
  }

  async read(fromOffset: number, maxBytes: number): Promise<ReadResult> {
    this.#checkReadable(fromOffset)
    const chunks: Buffer[] = []
    let bytes = 0
    let nextOffset = fromOffset
    for (let i = this.#chunkIndexFor(fromOffset); i < this.#chunks.length; i++) {
      const batch = this.#batchOf(this.#chunks[i]!)
      if (chunks.length > 0 && bytes + batch.length > maxBytes) break
      chunks.push(batch)
      bytes += batch.length
      nextOffset = this.#chunks[i]!.lastOffset + 1
    }
    return { chunks, bytes, nextOffset, logStartOffset: this.#logStartOffset, highWatermark: this.#nextOffset }
  }

  async readRecords(fromOffset: number, maxBytes: number): Promise<{ records: Record[]; nextOffset: number }> {
    this.#checkReadable(fromOffset)
    const records: Record[] = []
    let bytes = 0
    let nextOffset = fromOffset
    for (let i = this.#chunkIndexFor(fromOffset); i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i]!
      if (records.length > 0 && bytes + chunk.bytes > maxBytes) break
      for (const r of chunk.records ?? decodeRecords([chunk.batch!], chunk.baseOffset)) {
        if (r.offset >= fromOffset) records.push(r)
      }
      bytes += chunk.bytes
      nextOffset = chunk.lastOffset + 1
    }
    return { records, nextOffset }
  }

  async offsetForTimestamp(timestamp: number): Promise<number | null> {
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i]!
      if (chunk.maxTimestamp < timestamp) continue
      for (const record of chunk.records ?? decodeRecords([chunk.batch!], chunk.baseOffset)) {
        if (record.timestamp >= timestamp && record.offset >= this.#logStartOffset) return record.offset
      }
    }
    return null
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.#nextOffset) {
      throw new WharfError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records before ${offset}: high watermark is ${this.#nextOffset}`,
      )
    }
    if (offset <= this.#logStartOffset) return this.#logStartOffset
    this.#logStartOffset = offset
    this.#dropWhile((chunk) => chunk.lastOffset < offset)
    return this.#logStartOffset
  }

  async enforceRetention(now = Date.now()): Promise<number> {
    const { retentionMs, retentionBytes } = this.#config
    return this.#dropWhile((chunk) => {
      const expired = retentionMs >= 0 && chunk.maxTimestamp >= 0 && chunk.maxTimestamp < now - retentionMs
      const tooBig = retentionBytes >= 0 && this.#bytes - chunk.bytes >= retentionBytes
      return expired || tooBig
    })
  }

  #dropWhile(test: (chunk: Chunk) => boolean): number {
    let dropped = 0
    while (this.#head < this.#chunks.length && test(this.#chunks[this.#head]!)) {
      const chunk = this.#chunks[this.#head]!
      this.#bytes -= chunk.bytes
      this.#logStartOffset = Math.max(this.#logStartOffset, chunk.lastOffset + 1)
      this.#head++
      dropped++
    }
    // Drop the dead prefix once it is at least half the array: amortised O(1) per chunk.
    if (this.#head > 64 && this.#head * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
    return dropped
  }

  async compact(): Promise<CompactionResult> {
    // Memory logs back transient queues only, which are never compacted.
    return { segmentsRewritten: 0, recordsRemoved: 0, bytesBefore: this.#bytes, bytesAfter: this.#bytes }
  }

  onAppend(listener: (nextOffset: number) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  updateConfig(config: Partial<LogConfig>): void {
    this.#config = { ...this.#config, ...config }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.#closed = true
    this.#listeners.clear()
    this.#chunks = []
    this.#head = 0
    this.#bytes = 0
  }
}
